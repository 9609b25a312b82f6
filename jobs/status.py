"""A job's statuses and its progress frame, declared once for the whole app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (Status.QUEUED, Status.RUNNING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
ALL = (*ACTIVE, *FINISHED)

# ``detail`` says what a job is on, in words (e.g. "12 of 2,000 · Artist - Title.mp4").
PROGRESS_FIELDS = ("percent", "downloaded_bytes", "total_bytes", "speed", "eta", "stage", "detail")


def progress_frame(state: Mapping[str, Any]) -> dict[str, Any]:
    """The progress part of a job, as the API, the sockets and the pages show it."""
    frame = {field: state.get(field) for field in PROGRESS_FIELDS}
    frame["stage"] = frame["stage"] or ""
    frame["detail"] = frame["detail"] or ""
    return frame
