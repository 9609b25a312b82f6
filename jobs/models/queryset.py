from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from jobs.models.queues import PausedQueue

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")


class JobQuerySet(models.QuerySet):
    def active(self) -> JobQuerySet:
        return self.filter(status__in=ACTIVE)

    def finished(self) -> JobQuerySet:
        return self.filter(status__in=FINISHED)

    def for_user(self, user) -> JobQuerySet:
        return self if user.is_staff else self.filter(owner=user)

    def claimable(self) -> JobQuerySet:
        """Queued, due (a second of slack for clocks that differ between hosts), not paused."""
        due = timezone.now() + timedelta(seconds=1)
        return (
            self.filter(status="queued")
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=due))
            .exclude(queue__in=PausedQueue.objects.values("queue"))
        )

    def stale(self) -> JobQuerySet:
        """Running jobs whose worker stopped sending heartbeats."""
        cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
        waiting_parents = Q(is_parent=True, stage="waiting")
        return self.filter(status="running", heartbeat_at__lt=cutoff).exclude(waiting_parents)

    def unclaimed(self) -> JobQuerySet:
        """Queued jobs that have waited long enough that their message may be lost."""
        now = timezone.now()
        cutoff = now - timedelta(seconds=settings.JOB_RESEND_AFTER)
        return (
            self.filter(status="queued", enqueued_at__lt=cutoff)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .exclude(queue__in=PausedQueue.objects.values("queue"))
        )
