from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from jobs.models.queues import PausedQueue, WorkerBeat
from jobs.status import ACTIVE, ALL, FINISHED, Status
from mvidarr.roles import library_of

CLAIM_SLACK = 1.0  # seconds: a job is claimable this much before its retry time


class JobQuerySet(models.QuerySet):
    def active(self) -> JobQuerySet:
        return self.filter(status__in=ACTIVE)

    def finished(self) -> JobQuerySet:
        return self.filter(status__in=FINISHED)

    def for_user(self, user) -> JobQuerySet:
        """What ``user`` may see: everything for staff, else their own (and
        a viewer its owner's, see ``mvidarr.roles``)."""
        return self if user.is_staff else self.filter(library_of(user))

    def due(self, slack: float = 0.0, now: datetime | None = None) -> JobQuerySet:
        """Queued jobs not waiting for a retry time (``slack`` seconds early)."""
        cutoff = (now or timezone.now()) + timedelta(seconds=slack)
        return self.filter(status=Status.QUEUED).filter(
            Q(retry_at__isnull=True) | Q(retry_at__lte=cutoff)
        )

    def unpaused(self) -> JobQuerySet:
        return self.exclude(queue__in=PausedQueue.objects.values("queue"))

    def claimable(self, now: datetime | None = None) -> JobQuerySet:
        """Queued, due (with slack for clocks that differ between hosts), not paused."""
        return self.due(CLAIM_SLACK, now).unpaused()

    def stale(self) -> JobQuerySet:
        """Running jobs whose worker stopped sending heartbeats."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
        return self.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).exclude(
            is_parent=True, stage="waiting"
        )

    def orphaned(self) -> JobQuerySet:
        """Running jobs whose worker process has not beaten for
        ``WORKER_DEAD_AFTER`` and whose own heartbeat is as old."""
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER)
        alive = WorkerBeat.objects.filter(seen_at__gte=cutoff).values("name")
        return (
            self.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
            .exclude(is_parent=True, stage="waiting")
            .exclude(worker__in=alive)
        )

    def heartbeat(self, now) -> int:
        """A heartbeat for the running jobs among these."""
        return self.filter(status=Status.RUNNING).update(heartbeat_at=now)

    def unclaimed(self) -> JobQuerySet:
        """Queued jobs that have waited long enough that their message may be lost."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER)
        return self.due().unpaused().filter(enqueued_at__lt=cutoff)

    def waiting_parents(self) -> JobQuerySet:
        return self.filter(status=Status.RUNNING, is_parent=True, stage="waiting")

    def _idle(self) -> Q:
        running = self.model.objects.filter(parent=OuterRef("pk"), status=Status.RUNNING)
        return Q(status=Status.RUNNING, is_parent=True, stage="waiting") & ~Exists(running)

    def idle_parents(self) -> JobQuerySet:
        """Waiting parents none of whose children runs (they are all queued,
        e.g. held by a pause): nothing of theirs is running."""
        return self.filter(self._idle())

    def with_idle(self) -> JobQuerySet:
        """Each job with ``idle``: whether it is one of ``idle_parents``."""
        return self.annotate(idle=ExpressionWrapper(self._idle(), output_field=BooleanField()))

    def relabel(self, subject: str, label: str) -> int:
        """Name the jobs of ``subject`` anew (e.g. a title became known): the
        finished ones too, so that a job started before the title was known
        (named by its URL) does not keep the URL in the lists and history."""
        if not subject:  # jobs without a subject share nothing to be named after
            return 0
        label = label[:300]
        return self.filter(subject=subject).exclude(label=label).update(label=label)

    def counts_by_parent(self, parent_ids) -> dict:
        """``{parent_id: {status: n, …, "total"}}`` for these parents, in one query."""
        counts = {pk: dict.fromkeys(ALL, 0) for pk in parent_ids}
        rows = (
            self.filter(parent_id__in=counts)
            .order_by()
            .values("parent_id", "status")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            counts[row["parent_id"]][row["status"]] = row["n"]
        for c in counts.values():
            c["total"] = sum(c[status] for status in ALL)
        return counts
