from __future__ import annotations

import random
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from jobs import broker, kinds
from jobs.models.claiming import ClaimMixin
from jobs.models.family import ParentMixin
from jobs.models.log import JobLog
from jobs.models.queryset import JobQuerySet
from jobs.models.reporting import ReportingMixin
from jobs.models.stored import StoredMixin
from jobs.status import ACTIVE, PROGRESS_FIELDS, Status
from mvidarr import config
from mvidarr.compiled import insert_then_update, update_then_insert


def default_max_attempts() -> int:
    return config.get("JOB_MAX_ATTEMPTS")


class Job(ClaimMixin, ParentMixin, ReportingMixin, StoredMixin, models.Model):
    """One unit of background work and its live state.

    The row is the source of truth; the broker only delivers the id. Every
    change of status goes through a conditional UPDATE so that two workers, a
    cancel and the watchdog can race without ever corrupting a job. Every
    write after the claim is scoped to the attempt (``status='running' AND
    attempts=<ours>``), so an attempt that lost its job never overwrites newer state.
    """

    Status = Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=50, db_index=True)
    queue = models.CharField(max_length=50, default=kinds.DEFAULT_QUEUE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    is_parent = models.BooleanField(default=False)
    # What the job works on, e.g. "video:42". At most one active job per
    # (kind, subject): the database refuses a second one.
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    label = models.CharField(max_length=300, blank=True, help_text="What people see, e.g. a title.")
    params = models.JSONField(default=dict, blank=True)
    priority = models.SmallIntegerField(default=0)
    turn_of = models.UUIDField(null=True, blank=True, help_text="The job whose turn this one took.")

    percent = models.FloatField(null=True, blank=True)
    downloaded_bytes = models.BigIntegerField(null=True, blank=True)
    total_bytes = models.BigIntegerField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True)
    eta = models.IntegerField(null=True, blank=True)
    stage = models.CharField(max_length=30, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    error = models.TextField(blank=True, help_text="What went wrong, in plain words.")
    error_code = models.CharField(max_length=30, blank=True)
    error_detail = models.TextField(blank=True, help_text="The raw output behind the error.")
    result = models.JSONField(null=True, blank=True)
    stored = models.JSONField(
        null=True, blank=True, help_text="What an attempt stored and has not recorded yet."
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=default_max_attempts)
    worker = models.CharField(max_length=100, blank=True, help_text="host:pid of the attempt")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "queue"]),
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["queue", "status", "priority"], name="jobs_claim_order"),
            # History, metrics and the pages' sockets read recently finished jobs.
            models.Index(fields=["finished_at"], name="jobs_finished_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(status__in=ACTIVE) & ~Q(subject=""),
                name="one_active_job_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def spec(self) -> kinds.Kind:
        return kinds.get(self.kind)

    @property
    def work_dir(self) -> Path:
        """Scratch space of the job's attempts; kept across retries so a download resumes."""
        return settings.WORK_DIR / self.pk.hex

    # -- creating ---------------------------------------------------------

    @classmethod
    def submit(
        cls, kind: str, owner, *, subject: str = "", params: dict | None = None, **fields
    ) -> tuple[Job, bool]:
        """Create a queued job and send it once the transaction commits.

        Returns ``(job, created)``; when an active job for the same
        ``(kind, subject)`` exists, that one is returned instead.
        """
        spec = kinds.get(kind)
        fields.setdefault("is_parent", spec.waits_for_children)
        job = cls(
            kind=kind,
            owner=owner,
            subject=subject,
            params=params or {},
            queue=spec.queue,
            enqueued_at=timezone.now(),
            **fields,
        )
        try:
            # One statement (PostgreSQL) or transaction: the row, its first
            # log line and the kind's own bookkeeping (a video "downloading").
            line = job.log_line("info", f"Queued on {job.queue}")
            insert_then_update([job, line], spec.queued([job]))
        except IntegrityError:
            existing = cls.objects.active().filter(kind=kind, subject=subject).first()
            if existing is None:  # it finished in between: try once more
                return cls.submit(kind, owner, subject=subject, params=params, **fields)
            return existing, False
        transaction.on_commit(job._send)
        return job, True

    def enqueue(self, delay: float | None = None) -> None:
        """Hand the job id to the broker again; safe to repeat (the claim dedupes)."""
        Job.objects.filter(pk=self.pk).update(enqueued_at=timezone.now())
        self._send(delay)

    def _send(self, delay: float | None = None) -> None:
        self.publish_status()  # before the send, so "queued" never trails "running"
        broker.send([(self.kind, self.pk)], delay)

    # -- the state machine -------------------------------------------------

    def _running(self) -> JobQuerySet:
        """This job, if it is still running the attempt this process claimed."""
        return Job.objects.filter(pk=self.pk, status=Status.RUNNING, attempts=self.attempts)

    def save_progress(self, state: dict[str, Any]) -> bool:
        """Store progress, a heartbeat and pending log lines; False when the
        attempt is no longer ours."""
        with transaction.atomic():
            ours = self.write_progress(state, timezone.now())
            self.flush_log()
        return ours

    def write_progress(self, state: dict[str, Any], now) -> bool:
        """Progress and a heartbeat, scoped to this attempt (see ``jobs.attempts``)."""
        fields = {k: state[k] for k in PROGRESS_FIELDS if k in state}
        for k, v in fields.items():
            setattr(self, k, v)
        self.heartbeat_at = now
        return bool(self._running().update(heartbeat_at=now, **fields))

    def lock_attempt(self) -> bool:
        """Inside a transaction: lock the row if it is still this attempt."""
        return self._running().select_for_update().exists()

    def record_result(self, result: dict | None) -> None:
        """A parent's own result, kept while it waits for its children."""
        self.result, self.is_parent = result, True
        Job.objects.filter(pk=self.pk).update(result=result, is_parent=True)

    def still_running(self) -> bool:
        return self._running().exists()

    def mark_succeeded(self, result: dict | None) -> bool:
        return self._finish(
            Status.SUCCEEDED, result=result, percent=100.0, stage="done", stored=None
        )

    def mark_failed(self, error: str, code: str = "error", detail: str = "") -> bool:
        # One transaction with the kind's own bookkeeping (a video marked
        # failed), so the "failed" event, sent on commit, finds it done.
        with transaction.atomic():
            fields = {"error": error[:2000], "error_code": code, "error_detail": detail}
            if not self._finish(Status.FAILED, **fields):
                return False
            self.spec.failed(self)
        for listener in kinds.FAILURE_LISTENERS:
            # Once the failure is committed; a listener's error is logged, never the job's.
            transaction.on_commit(lambda listener=listener: listener(self), robust=True)
        return True

    def mark_cancelled(self) -> bool:
        return self._finish(
            Status.CANCELLED, error="Every child job was cancelled", error_code="cancelled"
        )

    def _finish(self, status: str, **fields) -> bool:
        """End the attempt this process runs, with its log lines, in one
        statement (PostgreSQL) or one transaction (``update_then_insert``)."""
        now = timezone.now()
        error = fields.get("error", self.error)
        level = "error" if status == Status.FAILED else "info"
        message = f"{status.capitalize()}{': ' + error if error else ''}"
        line = JobLog(job_id=self.pk, level=level, message=message[:4000], ts=now)
        lines = [*self.take_log_lines(), line]
        values = {"status": status, "finished_at": now, "heartbeat_at": now, **fields}
        if not update_then_insert(self._running(), values, lines):
            self.defer_log_lines(lines[:-1])
            return False
        for name, value in values.items():
            setattr(self, name, value)
        if self.stored is not None:  # a dead attempt's work that nobody will record
            transaction.on_commit(self.discard_stored)
        self.publish_status()
        self.settle_parent()
        return True

    def cancel(self) -> bool:
        """Cancel a queued or running job. The supervisor of a running one
        notices within half a second, kills its child and removes partial files."""
        now = timezone.now()
        with transaction.atomic():
            if not Job.objects.filter(pk=self.pk, status__in=ACTIVE).update(
                status=Status.CANCELLED,
                finished_at=now,
                error="Cancelled",
                error_code="cancelled",
                error_detail="",
            ):
                return False
            self.refresh_from_db()
            self.log("warning", "Cancelled")
            self.spec.cancelled(self)
            transaction.on_commit(self.discard_stored)
        # A supervisor cleans up after a running attempt; this is for a job
        # that waited to retry with its partial download kept.
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.publish_status()
        if self.is_parent:
            self.log("warning", f"Cancelled {self.cancel_children()} child job(s)")
        self.settle_parent()
        return True

    def requeue(self, reason: str) -> bool:
        """Send a running job round again at once (its worker died or stopped)."""
        return self.retry_or_fail(reason, "worker_lost", transient=True, delay=0)

    def will_retry(self, transient: bool) -> bool:
        """Whether a failed attempt gets another. One that kept work it stored
        (a download filed in the library) earns one beyond the limit: that
        attempt only records the work (``jobs.models.stored``), and without it
        a finished download would be thrown away."""
        limit = self.max_attempts + (self.stored is not None)
        return transient and self.attempts < limit

    def retry_or_fail(
        self, error: str, code: str, transient: bool, delay: float | None = None, detail: str = ""
    ) -> bool:
        """Record a failed attempt: transient failures are queued again with
        exponential backoff and jitter while attempts remain; the rest fail.
        ``error`` is for people; ``detail`` is the raw output behind it."""
        if not self.will_retry(transient):
            if transient:
                error = f"{error} (gave up after {self.attempts} attempts)"
            return self.mark_failed(error, code, detail)
        if delay is None:
            base = config.get("JOB_RETRY_DELAY") * 2 ** (self.attempts - 1)
            delay = min(base * random.uniform(0.5, 1.5), 900)
        fields = {
            "status": Status.QUEUED,
            "retry_at": timezone.now() + timedelta(seconds=delay),
            "stage": "",
            "worker": "",
            "error": error[:2000],
            "error_code": code,
            "error_detail": detail,
        }
        with transaction.atomic():
            if not self._running().update(**fields):
                return False
            for name, value in fields.items():
                setattr(self, name, value)
            self.log(
                "warning",
                f"Attempt {self.attempts} failed ({code}): {error}; retrying in {delay:.0f} s",
            )
            transaction.on_commit(lambda: self.enqueue(delay=delay))
        return True

    @property
    def can_retry(self) -> bool:
        """Failed or cancelled work that can be done again."""
        spec = kinds.KINDS.get(self.kind)
        return self.status in (Status.FAILED, Status.CANCELLED) and bool(spec and spec.retryable)

    def retry(self) -> Job:
        """A new job doing the same work as this failed or cancelled one."""
        if not self.can_retry:
            raise ValueError("Only failed or cancelled jobs can be retried.")
        new, _ = Job.submit(
            self.kind, self.owner, subject=self.subject, params=self.params, label=self.label
        )
        self.log("info", f"Retried as job {new.pk}")
        return new

    def set_label(self, label: str) -> None:
        self.label = label[:300]
        Job.objects.filter(pk=self.pk).update(label=self.label)
