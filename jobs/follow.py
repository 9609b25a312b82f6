"""Following a job from a terminal (``manage.py download``, ``manage.py jobs``).

1. The database is read ``POLL_EVERY`` (4×/s): the job's status, label and
   error and, for a parent, its children's counts and the running ones. It is
   the source of truth, and enough when nothing else is there to listen to.
2. A live source adds the progress frames the pages get, as they are
   published (up to 4/s per job): ``ChannelSource`` listens to the user's
   group on the channel layer; ``mvidarr.serveclient.SocketSource`` to a
   running ``serve``'s ``/ws/jobs/``. A frame heard within ``FRESH`` seconds
   wins over the database's progress, which is written only once a second.
3. Jobs are started, cancelled and retried with the model's own methods
   (``LocalControl``), as the API's views do, or through a running ``serve``'s
   API (``mvidarr.serveclient.ServeControl``) when that process holds the
   broker and the channel layer (embedded mode).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import Any, Protocol

from channels.layers import get_channel_layer

from jobs import kinds
from jobs.models import Job
from jobs.publisher import user_group
from jobs.status import FINISHED, Status, progress_frame

logger = logging.getLogger(__name__)

POLL_EVERY = 0.25
FRESH = 1.0
# A parent shows at most this many bars of running children.
MAX_CHILD_BARS = 8


class Watch:
    """What a terminal shows of one job: its state and, for a parent, its
    children's counts and a state per running child (``jobs``: the job first)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.jobs: dict[str, dict[str, Any]] = {}
        self._heard: dict[str, float] = {}

    @property
    def job(self) -> dict[str, Any]:
        return self.jobs[self.job_id]

    @property
    def finished(self) -> bool:
        return self.job["status"] in FINISHED

    def read(self) -> None:
        """Take the database's view: statuses, labels, errors, children, and
        progress where no live frame is fresh."""
        job = Job.objects.get(pk=self.job_id)
        rows = [job]
        if job.is_parent:
            running = Job.objects.filter(parent_id=job.pk, status=Status.RUNNING)
            rows += running.order_by("started_at")[:MAX_CHILD_BARS]
        now = time.monotonic()
        jobs = {}
        for row in rows:
            key = str(row.pk)
            state = self.jobs.get(key, {})
            if now - self._heard.get(key, -FRESH) >= FRESH:
                state.update(row.progress())
            state.update(
                label=row.label,
                kind=row.kind,
                status=row.status,
                error=row.error,
                children=row.children_counts() if row.is_parent else None,
            )
            jobs[key] = state
        self.jobs = jobs
        self._heard = {k: v for k, v in self._heard.items() if k in jobs}

    def hear(self, frame: dict[str, Any]) -> None:
        """A frame from a live source; frames of jobs not shown are ignored
        (the user's other jobs, or a child not read yet)."""
        state = self.jobs.get(frame.get("job_id"))
        if state is None:
            return
        if frame["type"] == "progress":
            state.update(progress_frame(frame))
            self._heard[frame["job_id"]] = time.monotonic()
        elif frame["type"] == "status":
            state["status"] = frame["status"]
            state["error"] = frame.get("error") or state.get("error", "")


class Source(Protocol):
    def frames(self, timeout: float) -> list[dict[str, Any]]: ...

    def follow(self, job_ids: list[str]) -> None: ...

    def close(self) -> None: ...


class Shown(Protocol):
    def show(self, jobs: dict[str, dict[str, Any]]) -> None: ...


def follow(watch: Watch, source: Source | None, board: Shown) -> None:
    """Show the job until it finishes: the database every ``POLL_EVERY``
    seconds, what the source hears in between."""
    next_read = 0.0
    while True:
        now = time.monotonic()
        if now >= next_read:
            watch.read()
            next_read = now + POLL_EVERY
            if watch.finished:
                board.show(watch.jobs)
                return
            if source:
                source.follow(list(watch.jobs))
        wait = max(0.0, next_read - time.monotonic())
        if source:
            for frame in source.frames(wait):
                watch.hear(frame)
        else:
            time.sleep(wait)
        board.show(watch.jobs)


class ChannelSource:
    """The job events of one user's group on the channel layer, heard on a
    loop of its own in a thread. In embedded mode, when this process runs the
    workers, the publisher is bound to the same loop (the in-memory layer
    wakes only consumers on the loop that sends)."""

    def __init__(self, owner_id: int) -> None:
        self.group = user_group(owner_id)
        self.loop = asyncio.new_event_loop()
        self._frames: queue.SimpleQueue = queue.SimpleQueue()
        self._joined = threading.Event()
        self._layer = get_channel_layer()
        self._channel = ""
        threading.Thread(target=self.loop.run_forever, name="job-follower", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop)
        self._joined.wait(5)

    async def _listen(self) -> None:
        while True:
            try:
                self._channel = await self._layer.new_channel()
                await self._layer.group_add(self.group, self._channel)
                self._joined.set()
                while True:
                    message = await self._layer.receive(self._channel)
                    self._frames.put(message["frame"])
            except Exception:
                # The layer is unreachable (Redis restarting): the database
                # still tells the state; listen again in a moment.
                logger.debug("Channel layer unavailable", exc_info=True)
                self._joined.set()
                await asyncio.sleep(1)

    def frames(self, timeout: float) -> list[dict[str, Any]]:
        return drain_frames(self._frames, timeout)

    def follow(self, job_ids: list[str]) -> None:
        pass  # the group carries every job of the user

    def close(self) -> None:
        if self._channel:
            discard = self._layer.group_discard(self.group, self._channel)
            try:
                asyncio.run_coroutine_threadsafe(discard, self.loop).result(2)
            except Exception:
                logger.debug("Could not leave the group", exc_info=True)
        stop_loop(self.loop)


def stop_loop(loop: asyncio.AbstractEventLoop, timeout: float = 3.0) -> None:
    """End every task on a follower's loop (a socket closes its connection),
    then the loop: nothing is left pending when the process exits."""

    async def end_tasks() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run_coroutine_threadsafe(end_tasks(), loop).result(timeout)
    except Exception:
        logger.debug("A follower's tasks did not end in time", exc_info=True)
    loop.call_soon_threadsafe(loop.stop)


def drain_frames(frames: queue.SimpleQueue, timeout: float) -> list[dict[str, Any]]:
    """What arrived within ``timeout``: waits for the first, takes all waiting."""
    try:
        got = [frames.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            got.append(frames.get_nowait())
        except queue.Empty:
            return got


class LocalControl:
    """Starting, cancelling and retrying jobs with the model's own methods,
    the paths the API's views take."""

    where = "this process"

    def start(self, owner, kind: str, data: dict[str, Any]) -> str:
        """A new job (or the active one for the same work); ``kinds.Refused`` for bad input."""
        return str(kinds.get(kind).start(owner, data).pk)

    def cancel(self, job: Job) -> None:
        """Raises ``ValueError`` when the job had already finished otherwise."""
        if not job.cancel() and job.status != Status.CANCELLED:
            job.refresh_from_db(fields=["status"])
            if job.status != Status.CANCELLED:
                raise ValueError(f"The job has already {job.status}.")

    def retry(self, job: Job) -> str:
        """The new job's id; ``ValueError`` when the job cannot be retried."""
        return str(job.retry().pk)
