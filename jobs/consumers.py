"""WebSocket consumers. Both join the job-event group the user may see (their
own, or every job for staff) and forward what the socket subscribed to.

* ``JobsConsumer`` (``/ws/jobs/``) speaks the JSON protocol of DESIGN.md.
* ``UiConsumer`` (``/ws/ui/?page=…``) sends HTML fragments rendered from the
  pages' own partials; htmx's ws extension swaps them in by id.

Channel layers may drop messages and the ws extension replays nothing, so each
socket starts with a snapshot of the current state.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string

from jobs.models import Job, Status
from jobs.sockets import JobEvents, on_render_threads, shared_render
from jobs.views import activity_context
from mvidarr.models import READ_ONLY_KEY
from mvidarr.roles import READ_ONLY

MAX_SUBSCRIPTIONS = 500
CHANGE_JOB = "jobs.change_job"  # what cancelling over the socket needs, as on the pages
# The Activity page redraws its lists at most this often (seconds).
ACTIVITY_REDRAW_DELAY = 0.25
# A page's socket catches up on at most this many subjects whose jobs finished
# since the page was rendered, over at most a day (see ``UiConsumer._snapshot``).
CATCH_UP_SUBJECTS = 200
CATCH_UP_SECONDS = 24 * 3600

# Apps register how to render the live fragment of a job's subject on a page,
# e.g. "video" -> (subject "video:42", user, page "library") -> HTML.
SUBJECT_RENDERERS: dict[str, Callable[[str, object, str], str]] = {}


def _parse_uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


class JobsConsumer(JobEvents, AsyncJsonWebsocketConsumer):
    async def on_connect(self) -> None:
        self.subscriptions: set[str] = set()
        self.all = False

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self._error("Messages must be JSON objects.")
            return
        if not isinstance(content, dict):
            await self._error("Messages must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs) -> None:
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe" and content.get("all") is True:
            self.all = True
            jobs = await self._jobs()
            await self.send_json({"type": "snapshot", "jobs": jobs})
        elif kind in ("subscribe", "unsubscribe", "cancel"):
            job_id = _parse_uuid(content.get("job_id"))
            job = job_id and await self._job(job_id)
            if job is None:
                await self._error("No such job.", content.get("job_id"))
            elif kind == "subscribe":
                if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                    await self._error("Too many subscriptions.", job_id)
                    return
                self.subscriptions.add(job_id)
                await self.send_json({"type": "snapshot", "jobs": [_json(job.to_dict())]})
            elif kind == "unsubscribe":
                self.subscriptions.discard(job_id)
            elif self.scope.get("api_key_read_only"):
                await self._error(READ_ONLY_KEY, job_id)
            elif not await database_sync_to_async(self.user.has_perm)(CHANGE_JOB):
                await self._error(READ_ONLY, job_id)
            else:
                await database_sync_to_async(job.cancel)()
        else:
            await self._error("Unknown message type.")

    async def _error(self, message: str, job_id=None) -> None:
        frame = {"type": "error", "message": message}
        if isinstance(job_id, str) and len(job_id) <= 64:
            frame["job_id"] = job_id
        await self.send_json(frame)

    @database_sync_to_async
    def _job(self, job_id: str) -> Job | None:
        return Job.objects.for_user(self.user).filter(pk=job_id).first()

    @database_sync_to_async
    def _jobs(self) -> list[dict]:
        return [_json(j.to_dict()) for j in Job.objects.for_user(self.user).active()[:1000]]

    async def job_event(self, event: dict) -> None:
        frame = event["frame"]
        if self.all or frame["job_id"] in self.subscriptions:
            await self.send_json(frame)


def _json(data: dict) -> dict:
    """Datetimes as ISO strings, like the HTTP API."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


@dataclass
class Unsettled:
    """A job whose status fragment is still to be sent (``UiConsumer``)."""

    subject: str
    event: int  # the number of its last status event
    progress: str = ""  # the last progress fragment sent since that event


class UiConsumer(JobEvents, AsyncWebsocketConsumer):
    """Progress fragments are sent as their events come; status fragments,
    which need the database, are rendered in the background one at a time
    (``_send_status``), so that progress never waits for them."""

    async def on_connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        self.page = (query.get("page") or [""])[0]
        self.job_id = _parse_uuid((query.get("job") or [""])[0])
        # A page about one subject (a video's page) gets only its fragments.
        self.subject = (query.get("subject") or [""])[0][:100]
        # The Activity page with the quiet kinds too (``?jobs=all``).
        self.everything = (query.get("jobs") or [""])[0] == "all"
        self.since = _since((query.get("since") or [""])[0])
        self.redraw_pending = False
        self.last_change = 0.0  # ts of the last status event: what a redraw reflects
        self.render_turn = asyncio.Lock()  # status fragments and redraws, one at a time
        self.status_events = 0  # status events heard, to number them
        self.latest: dict[str, int] = {}  # subject -> number of its last status event
        self.unsettled: dict[str, Unsettled] = {}  # job -> what its status fragment awaits
        if html := await self._snapshot():
            await self.send(text_data=html)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        pass  # the pages talk to us over plain HTTP

    async def job_event(self, event: dict) -> None:
        """Every fragment is rendered once per key (``shared_render``), however
        many sockets of this process show it."""
        frame = event["frame"]
        if self.page == "job" and frame["job_id"] != self.job_id:
            return
        if self.subject and event["subject"] != self.subject:
            return
        if frame["type"] == "progress":
            key = ("progress", frame["job_id"], frame["ts"])
            html = await shared_render(key, _progress_renderer(frame))
            await self.send(text_data=html)
            if unsettled := self.unsettled.get(frame["job_id"]):
                unsettled.progress = html
            return
        self.last_change = max(self.last_change, frame["ts"])
        if self.page == "activity":
            # The whole list is redrawn: coalesce a burst of changes into one.
            if not self.redraw_pending:
                self.redraw_pending = True
                asyncio.get_running_loop().call_later(ACTIVITY_REDRAW_DELAY, self._redraw_soon)
            return
        self.status_events += 1
        self.latest[event["subject"]] = self.status_events
        self.unsettled[frame["job_id"]] = Unsettled(event["subject"], self.status_events)
        self.background(self._send_status(event, self.status_events))

    async def _send_status(self, event: dict, number: int) -> None:
        """The fragment of status event ``number`` about a subject.

        1. Wait for this socket's turn, so that its status fragments go out
           in the order of their events.
        2. Skip it if a later event of the same subject came meanwhile: that
           one's fragment, rendered later, shows the newer state.
        3. Render it on the render threads (or take another socket's render
           of the same event): it shows the subject as the database has had
           it since that event, so after every earlier one of the subject.
        4. Send it together with the last progress fragment sent since the
           status event of each of the subject's jobs: those went out while
           this rendered, and the fragment, from the database, must not put
           their progress back."""
        subject, frame = event["subject"], event["frame"]
        async with self.render_turn:
            if self.latest.get(subject) != number:
                return
            heard = self.status_events
            key = (self.page, self.user.pk, subject, frame["job_id"], frame["ts"])
            html = await shared_render(key, lambda: self._render_status(event))
            if self.latest.get(subject) == number:
                del self.latest[subject]
            progress = []
            for job_id, unsettled in list(self.unsettled.items()):
                if unsettled.subject == subject and unsettled.event <= heard:
                    del self.unsettled[job_id]
                    progress.append(unsettled.progress)
            if html:
                await self.send(text_data=html + "".join(progress))

    def _redraw_soon(self) -> None:
        if not self.closed:
            self.background(self._redraw_activity())

    async def _redraw_activity(self) -> None:
        async with self.render_turn:  # an earlier redraw is sent first
            self.redraw_pending = False
            key = ("activity", self.user.pk, self.everything, self.last_change)
            html = await shared_render(
                key, lambda: on_render_threads(_render_activity)(self.user, self.everything)
            )
            await self.send(text_data=html)

    @on_render_threads
    def _render_status(self, event: dict) -> str:
        if self.page == "job":
            job = Job.objects.for_user(self.user).filter(pk=self.job_id).first()
            return _render_job(job, self.user)
        prefix = event["subject"].partition(":")[0]
        if renderer := SUBJECT_RENDERERS.get(prefix):
            return renderer(event["subject"], self.user, self.page)
        return ""

    @on_render_threads
    def _snapshot(self) -> str:
        """What the page shows that may have changed before this socket could
        hear of it: the Activity list or the job as they are now; on the other
        pages the subjects of active jobs and, when the page says when it was
        rendered (``since``), of the jobs that finished since then (a job may
        finish between the page's render and its socket's connect, or while
        a dropped socket reconnects)."""
        if self.page == "activity":
            return _render_activity(self.user, self.everything)
        if self.page == "job":
            job = Job.objects.for_user(self.user).filter(pk=self.job_id).first()
            return _render_job(job, self.user)
        jobs = Job.objects.for_user(self.user).exclude(subject="")
        if self.subject:
            jobs = jobs.filter(subject=self.subject)
        subjects = list(jobs.active().values_list("subject", flat=True))
        if self.since:
            finished = jobs.finished().filter(finished_at__gte=self.since)
            latest = finished.order_by("-finished_at").values_list("subject", flat=True)
            subjects += latest[:CATCH_UP_SUBJECTS]
        parts = []
        for subject in dict.fromkeys(subjects):
            if renderer := SUBJECT_RENDERERS.get(subject.partition(":")[0]):
                parts.append(renderer(subject, self.user, self.page))
        return "".join(parts)


def _since(value: str) -> datetime | None:
    """When the page was rendered (``?since=``, a Unix time), no earlier than
    ``CATCH_UP_SECONDS`` ago; None when absent or not a time."""
    try:
        since = float(value)
    except ValueError:
        return None
    if not math.isfinite(since):
        return None
    now = time.time()
    return datetime.fromtimestamp(min(max(since, now - CATCH_UP_SECONDS), now), tz=UTC)


def _progress_renderer(frame: dict):
    async def render() -> str:
        job = {**frame, "id": frame["job_id"], "status": Status.RUNNING}
        return render_to_string("jobs/_progress.html", {"job": job})

    return render


def _render_job(job: Job | None, user) -> str:
    if job is None:
        return ""
    return render_to_string("jobs/detail.html#job-live", {"job": job, "perms": PermWrapper(user)})


def _render_activity(user, everything: bool) -> str:
    return render_to_string("jobs/activity.html#live", activity_context(user, everything))
