"""A video's statuses: on their own, so an artist can count its videos by
status without importing the video."""

from __future__ import annotations

from django.db import models


class VideoStatus(models.TextChoices):
    WANTED = "wanted"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    FAILED = "failed"
    IGNORED = "ignored"
