from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class JobLog(models.Model):
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="logs")
    ts = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()

    class Meta:
        ordering = ["ts", "id"]

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "level": self.level, "message": self.message}
