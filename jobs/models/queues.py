from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class PausedQueue(models.Model):
    """A queue whose queued jobs are held: workers do not claim them."""

    queue = models.CharField(max_length=50, primary_key=True)
    paused_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300, blank=True, help_text="Empty: paused by staff.")

    @classmethod
    def is_paused(cls, queue: str) -> bool:
        return cls.objects.filter(queue=queue).exists()

    @classmethod
    def pause(cls, queue: str, reason: str = "") -> None:
        cls.objects.update_or_create(queue=queue, defaults={"reason": reason[:300]})

    @classmethod
    def resume(cls, queue: str) -> bool:
        return bool(cls.objects.filter(queue=queue).delete()[0])


class WorkerBeat(models.Model):
    """A worker process that says it is alive, every few seconds."""

    name = models.CharField(max_length=150, primary_key=True)
    queues = models.JSONField(default=dict)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    @classmethod
    def alive(cls) -> models.QuerySet:
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER)
        return cls.objects.filter(seen_at__gte=cutoff)


class ScheduledTask(models.Model):
    """When a periodic task last ran, how it went, and when it runs next."""

    name = models.CharField(max_length=50, primary_key=True)
    interval = models.FloatField(help_text="Seconds between runs.")
    next_run_at = models.DateTimeField(default=timezone.now)
    run_now = models.BooleanField(default=False)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_duration = models.FloatField(null=True, blank=True)
    last_outcome = models.TextField(blank=True)
    last_ok = models.BooleanField(default=True)
    last_run_by = models.CharField(max_length=150, blank=True, help_text="host:pid")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
