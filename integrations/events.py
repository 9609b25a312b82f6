"""The one way into the integrations: other apps say what happened, and the
integrations decide what follows (a notification, a media server refresh,
a line in the daily digest). The coupling is one way: ``videos`` (and the
sources feature) call these; nothing here knows their models.

Call them once your own work is committed (``transaction.on_commit``). Each
only queues jobs and never raises: a notifier that fails never fails what it
reports on.

- ``video_downloaded(title, path)``: a download landed in the library;
- ``new_videos_found(source, titles)``: a followed source found new videos;
- ``job_failed(job)``: a job failed for good (registered as a ``jobs``
  failure listener, so it hears of every kind);
- ``emit(event, title, body)``: any event of ``options.EVENTS``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction

from integrations import mediaservers, options, tasks
from integrations.models import DigestEntry, PendingRefresh
from jobs import kinds
from jobs.models import Job
from mvidarr import config

logger = logging.getLogger(__name__)

# Their failures are shown where they were asked for; telling of them would loop.
QUIET_KINDS = {tasks.SendNotification.name, tasks.CheckMediaServer.name}
LISTED_TITLES = 10


def never_raises(fn: Callable[..., None]) -> Callable[..., None]:
    """Run ``fn`` in a savepoint; log its error instead of raising it."""

    @functools.wraps(fn)
    def guarded(*args, **kwargs) -> None:
        try:
            with transaction.atomic():
                fn(*args, **kwargs)
        except Exception:
            logger.exception("The integrations could not handle %s", fn.__name__)

    return guarded


@never_raises
def emit(event: str, title: str, body: str) -> None:
    """Notify of ``event`` if staff picked it, and keep it for the digest."""
    if event not in options.EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    if not config.get("NOTIFY_URLS"):
        return
    picked = config.get("NOTIFY_EVENTS")
    if event in picked:
        tasks.send_later(event, title, body)
    if "daily_digest" in picked:
        DigestEntry.objects.create(event=event, text=f"{title}: {body}"[:500])


@never_raises
def video_downloaded(title: str, path: str) -> None:
    try:
        where = Path(path).relative_to(settings.LIBRARY_DIR)
    except ValueError:
        where = Path(path).name
    emit("video_downloaded", f"Downloaded: {title}", f"{title} is in the library: {where}")
    if mediaservers.configured():
        PendingRefresh.objects.create(path=path)


@never_raises
def new_videos_found(source: str, titles: Sequence[str]) -> None:
    lines = list(titles[:LISTED_TITLES])
    if len(titles) > LISTED_TITLES:
        lines.append(f"… and {len(titles) - LISTED_TITLES} more")
    emit("source_new_videos", f"{len(titles)} new video(s) from {source}", "\n".join(lines))


@never_raises
def job_failed(job: Job) -> None:
    """A child's failure is told by its parent's ("3 of 50 failed")."""
    if job.parent_id or job.kind in QUIET_KINDS:
        return
    what = job.label or job.kind.replace("_", " ")
    emit("job_failed", f"Failed: {what}", f"{what}: {job.error}")


kinds.FAILURE_LISTENERS.append(job_failed)
