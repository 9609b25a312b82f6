"""What the integrations keep between events: files waiting for the next media
server refresh, and events waiting for the daily digest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PendingRefresh(models.Model):
    """A file that landed in the library since the last media server refresh."""

    path = models.CharField(max_length=4096)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.path


class DigestEntry(models.Model):
    """One event for the next daily digest."""

    event = models.CharField(max_length=50)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "digest entries"

    def __str__(self) -> str:
        return f"{self.event}: {self.text}"
