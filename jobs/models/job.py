from __future__ import annotations

import random
import shutil
import socket
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs import publisher
from jobs.models.log import JobLog
from jobs.models.queryset import ACTIVE, JobQuerySet

PROGRESS_FIELDS = ("percent", "downloaded_bytes", "total_bytes", "speed", "eta", "stage")
WORKER_NAME = f"{socket.gethostname()}"


def default_max_attempts() -> int:
    return settings.JOB_MAX_ATTEMPTS


class Job(models.Model):
    """One unit of background work and its live state.

    The row is the source of truth; the broker only delivers the id. Every
    change of status goes through a conditional UPDATE so that two workers, a
    cancel and the watchdog can race without ever corrupting a job.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=50, db_index=True)
    queue = models.CharField(max_length=50, default="default")
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

    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=30, blank=True)
    result = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=default_max_attempts)
    worker = models.CharField(max_length=100, blank=True)
    message_id = models.CharField(max_length=36, blank=True, help_text="The last broker message.")

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

    # -- creating ---------------------------------------------------------

    @classmethod
    def submit(
        cls, kind: str, owner, *, subject: str = "", params: dict | None = None, **fields
    ) -> tuple[Job, bool]:
        """Create a queued job and send it once the transaction commits.

        Returns ``(job, created)``; when an active job for the same
        ``(kind, subject)`` exists, that one is returned instead.
        """
        from jobs.actors import TASKS

        task = TASKS[kind]
        fields.setdefault("is_parent", task.waits_for_children)
        job_id = uuid.uuid4()
        message = task.actor.message(str(job_id))
        try:
            # One transaction: the row, its first log line and the kind's own
            # bookkeeping (e.g. the video becomes "downloading").
            with transaction.atomic():
                job = cls.objects.create(
                    id=job_id,
                    kind=kind,
                    owner=owner,
                    subject=subject,
                    params=params or {},
                    queue=task.queue,
                    message_id=message.message_id,
                    enqueued_at=timezone.now(),
                    **fields,
                )
                job.log("info", f"Queued on {job.queue}")
                task.queued(job)
        except IntegrityError:
            existing = cls.objects.active().filter(kind=kind, subject=subject).first()
            if existing is None:  # it finished in between: try once more
                return cls.submit(kind, owner, subject=subject, params=params, **fields)
            return existing, False
        transaction.on_commit(lambda: job.send(message))
        return job, True

    def enqueue(self, delay: float | None = None) -> None:
        """Hand the job id to the broker again; safe to repeat (the claim dedupes)."""
        from jobs.actors import TASKS

        message = TASKS[self.kind].actor.message(str(self.pk))
        self.message_id = message.message_id
        Job.objects.filter(pk=self.pk).update(
            enqueued_at=timezone.now(), message_id=self.message_id
        )
        self.send(message, delay)

    def send(self, message, delay: float | None = None) -> None:
        from jobs.actors import TASKS

        self.publish_status()  # before the send, so "queued" never trails "running"
        TASKS[self.kind].actor.broker.enqueue(message, delay=int(delay * 1000) if delay else None)

    # -- the state machine -------------------------------------------------

    @classmethod
    def claim(cls, pk: str) -> Job | None:
        """Atomically move a queued job to running; None if there is nothing to run.

        A message is a turn to run one job of its queue. When jobs of a higher
        priority wait ("download now"), the turn goes to the first of them, which
        records whose turn it took (``turn_of``); its own message, arriving later,
        runs that job instead. So each message runs at most one job, every job
        gets a turn, and a duplicate delivery runs nothing.
        """
        job = cls.objects.filter(pk=pk).values("queue", "priority", "status", "turn_of").first()
        if job is None:
            return None
        if job["status"] != "queued":
            candidates = [job["turn_of"]] if job["turn_of"] else []
        else:
            ahead = (
                cls.objects.claimable()
                .filter(queue=job["queue"], priority__gt=job["priority"])
                .order_by("-priority", "created_at")
                .values_list("pk", flat=True)[:3]
            )
            candidates = [*ahead, pk]
        for candidate in candidates:
            if claimed := cls._claim_one(candidate, turn_of=None if candidate == pk else pk):
                return claimed
        return None

    @classmethod
    def _claim_one(cls, pk, turn_of) -> Job | None:
        now = timezone.now()
        claimed = (
            cls.objects.claimable()
            .filter(pk=pk)
            .update(
                status="running",
                turn_of=turn_of,
                retry_at=None,
                attempts=F("attempts") + 1,
                started_at=now,
                heartbeat_at=now,
                worker=WORKER_NAME,
                error="",
                error_code="",
                stage="starting",
                percent=None,
            )
        )
        if not claimed:
            return None
        job = cls.objects.get(pk=pk)
        job.log("info", f"Attempt {job.attempts} started on {WORKER_NAME}")
        job.publish_status()
        return job

    def prioritize(self) -> bool:
        """Move a queued job ahead of the others in its queue ("download now")."""
        top = Job.objects.filter(queue=self.queue, status="queued").aggregate(
            m=models.Max("priority")
        )["m"]
        self.priority = max(top or 0, self.priority) + 1
        if not Job.objects.filter(pk=self.pk, status="queued").update(priority=self.priority):
            return False
        self.log("info", "Moved to the front of the queue")
        return True

    def _running(self) -> JobQuerySet:
        """This job, if it is still running the attempt this process claimed."""
        return Job.objects.filter(pk=self.pk, status="running", attempts=self.attempts)

    def save_progress(self, state: dict[str, Any]) -> bool:
        """Store progress and a heartbeat; False when the attempt is no longer ours."""
        fields = {k: state[k] for k in PROGRESS_FIELDS if k in state}
        for k, v in fields.items():
            setattr(self, k, v)
        self.heartbeat_at = timezone.now()
        return bool(self._running().update(heartbeat_at=self.heartbeat_at, **fields))

    def still_running(self) -> bool:
        return self._running().exists()

    def mark_succeeded(self, result: dict | None) -> bool:
        return self._finish("succeeded", result=result, percent=100.0, stage="done")

    def mark_failed(self, error: str, code: str = "error") -> bool:
        from jobs.actors import TASKS

        if not self._finish("failed", error=error[:2000], error_code=code):
            return False
        TASKS[self.kind].failed(self)
        return True

    def _finish(self, status: str, **fields) -> bool:
        now = timezone.now()
        if not self._running().update(status=status, finished_at=now, heartbeat_at=now, **fields):
            return False
        self.refresh_from_db()
        self.log(
            "error" if status == "failed" else "info",
            f"{status.capitalize()}{': ' + self.error if self.error else ''}",
        )
        self.publish_status()
        self._settle_parent()
        return True

    def cancel(self) -> bool:
        """Cancel a queued or running job. The supervisor of a running one
        notices within half a second, kills its child and removes partial files."""
        from jobs.actors import TASKS

        now = timezone.now()
        if not Job.objects.filter(pk=self.pk, status__in=ACTIVE).update(
            status="cancelled", finished_at=now, error="Cancelled", error_code="cancelled"
        ):
            return False
        self.refresh_from_db()
        # A supervisor cleans up after a running attempt; this is for a job
        # that waited to retry with its partial download kept.
        shutil.rmtree(settings.WORK_DIR / self.pk.hex, ignore_errors=True)
        self.log("warning", "Cancelled")
        TASKS[self.kind].cancelled(self)
        self.publish_status()
        if self.is_parent:
            from jobs.family import cancel_children

            self.log("warning", f"Cancelled {cancel_children(self)} child job(s)")
        self._settle_parent()
        return True

    def mark_cancelled(self) -> bool:
        return self._finish(
            "cancelled", error="Every child job was cancelled", error_code="cancelled"
        )

    def _settle_parent(self) -> None:
        if self.parent_id:
            from jobs.family import settle

            settle(self.parent_id)

    def requeue(self, reason: str) -> bool:
        """Send a running job round again at once (its worker died or stopped)."""
        return self.retry_or_fail(reason, "worker_lost", transient=True, delay=0)

    def will_retry(self, transient: bool) -> bool:
        return transient and self.attempts < self.max_attempts

    def retry_or_fail(
        self, error: str, code: str, transient: bool, delay: float | None = None
    ) -> bool:
        """Record a failed attempt: transient failures are queued again with
        exponential backoff and jitter while attempts remain; the rest fail."""
        if not self.will_retry(transient):
            if transient:
                error = f"{error} (gave up after {self.attempts} attempts)"
            return self.mark_failed(error, code)
        if delay is None:
            base = settings.JOB_RETRY_DELAY * 2 ** (self.attempts - 1)
            delay = min(base * random.uniform(0.5, 1.5), 900)
        retry_at = timezone.now() + timedelta(seconds=delay)
        if not self._running().update(
            status="queued",
            retry_at=retry_at,
            stage="",
            worker="",
            error=error[:2000],
            error_code=code,
        ):
            return False
        self.refresh_from_db()
        self.log(
            "warning",
            f"Attempt {self.attempts} failed ({code}): {error}; retrying in {delay:.0f} s",
        )
        transaction.on_commit(lambda: self.enqueue(delay=delay))
        return True

    @property
    def can_retry(self) -> bool:
        """Failed or cancelled work that can be done again (not a bulk
        parent, whose children are what can be retried)."""
        from jobs.actors import TASKS

        task = TASKS.get(self.kind)
        redoable = task is not None and (bool(task.child) or not task.waits_for_children)
        return self.status in ("failed", "cancelled") and redoable

    def retry(self) -> Job:
        """A new job doing the same work as this failed or cancelled one."""
        if not self.can_retry:
            raise ValueError("Only failed or cancelled jobs can be retried.")
        new, _ = Job.submit(
            self.kind, self.owner, subject=self.subject, params=self.params, label=self.label
        )
        self.log("info", f"Retried as job {new.pk}")
        return new

    # -- reporting -----------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def progress(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PROGRESS_FIELDS}

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
            "result": self.result,
            "attempts": self.attempts,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "children": self.children_counts() if self.is_parent else None,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def children_counts(self) -> dict[str, int]:
        from jobs.family import children_counts

        return children_counts(self.pk)

    def publish_status(self) -> None:
        """Announce the current status once it is committed, so that whoever
        reacts to it (a page re-rendering a row) reads the new state."""
        event = self.event("status", status=self.status, error=self.error or None)
        transaction.on_commit(lambda: publisher.get().status(event))

    def event(self, type_: str, **frame) -> dict[str, Any]:
        """A channel-layer event; consumers forward ``frame`` to subscribers."""
        return {
            "owner_id": self.owner_id,
            "subject": self.subject,
            "kind": self.kind,
            "frame": {"type": type_, "job_id": str(self.pk), **frame},
        }

    def log(self, level: str, message: str) -> None:
        JobLog.objects.create(job_id=self.pk, level=level, message=message[:4000])
