"""What a job tells the outside: its dict for the API and sockets, its
channel-layer events, and its log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs import publisher
from jobs.models.log import JobLog
from jobs.status import ACTIVE, FINISHED, progress_frame


class ReportingMixin:
    """The reporting side of ``Job``."""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def progress(self) -> dict[str, Any]:
        return progress_frame(self.__dict__)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.pk),
            "kind": self.kind,
            "queue": self.queue,
            "status": self.status,
            "subject": self.subject,
            "label": self.label,
            "progress": self.progress(),
            "error": self.error or None,
            "error_code": self.error_code or None,
            "error_detail": self.error_detail or None,
            "result": self.result,
            "attempts": self.attempts,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "children": self.children_counts() if self.is_parent else None,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def publish_status(self) -> None:
        """Announce the current status once it is committed, so that whoever
        reacts to it (a page re-rendering a row) reads the new state."""
        event = self.event("status", status=self.status, error=self.error or None)
        transaction.on_commit(lambda: publisher.get().status(event))

    def publish_progress(self, state: dict[str, Any]) -> None:
        publisher.get().progress(self.event("progress", **progress_frame(state)))

    def event(self, type_: str, **frame) -> dict[str, Any]:
        """A channel-layer event; consumers forward ``frame`` to subscribers."""
        return {
            "owner_id": self.owner_id,
            "subject": self.subject,
            "kind": self.kind,
            "frame": {"type": type_, "job_id": str(self.pk), **frame},
        }

    # -- the job's log ---------------------------------------------------------

    def log(self, level: str, message: str, defer: bool = False) -> None:
        """Add a line to the job's log. A deferred line (the child's chatter)
        waits on this object for the next progress write or state change
        (``flush_log``), so many lines cost one INSERT in a transaction that
        commits anyway."""
        self.defer_log_lines([self.log_line(level, message)])
        if not defer:  # with the lines still waiting, in one INSERT
            self.flush_log()

    def log_line(self, level: str, message: str) -> JobLog:
        """A line of the job's log, stamped now, not yet written."""
        return JobLog(job_id=self.pk, level=level, message=message[:4000], ts=timezone.now())

    def defer_log_lines(self, lines: list[JobLog]) -> None:
        """Lines (made elsewhere, with their own time) for the next write."""
        self.__dict__.setdefault("_log_lines", []).extend(lines)

    def take_log_lines(self) -> list[JobLog]:
        """The lines waiting on this object, for someone else to write."""
        return self.__dict__.pop("_log_lines", [])

    def flush_log(self) -> None:
        if lines := self.take_log_lines():
            JobLog.objects.bulk_create(lines)
