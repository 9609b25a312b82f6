"""Followed sources: a playlist, channel or feed URL that is checked on a
schedule, and every entry it ever listed (``SeenEntry``), so that an entry
becomes a video once, ever, even after that video is deleted."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone

from jobs.models import Job
from mvidarr.roles import library_of
from sources.filters import MAX_PATTERN, BadFilter, Filters, compile_pattern
from videos.models import Artist, Profile, Video

KIND = "check_source"
MIN_EVERY, DEFAULT_EVERY, MAX_EVERY = 5, 360, 525_600  # minutes (a year at most)
MAX_DURATION = 7 * 24 * 3600
# The next check comes this much later at most (a tenth of the interval, up
# to 5 minutes), so sources added together drift apart instead of all being
# checked in the same second for ever.
MAX_JITTER = 300
# A source that has never been scheduled (made in the admin, or in bulk)
# gets its first check somewhere in this many seconds.
FIRST_CHECK_SPREAD = 60


def valid_pattern(value: str) -> None:
    try:
        compile_pattern(value)
    except BadFilter as e:
        raise ValidationError(str(e)) from None


def entry_key(url: str) -> str:
    """What identifies an entry of a source: its video URL, hashed to a
    fixed length for the unique index."""
    return hashlib.sha256(url.encode()).hexdigest()


class SourceQuerySet(models.QuerySet):
    def for_user(self, user) -> SourceQuerySet:
        """What ``user`` may see: everything for staff, else their own (and
        a viewer its owner's, see ``mvidarr.roles``)."""
        return self if user.is_staff else self.filter(library_of(user))

    def due(self, now=None) -> SourceQuerySet:
        """Enabled sources whose next check has come, longest overdue first."""
        now = now or timezone.now()
        return self.filter(enabled=True, next_check_at__lte=now).order_by("next_check_at", "pk")


class Source(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sources"
    )
    url = models.URLField(max_length=2048)
    name = models.CharField(
        max_length=200, blank=True, help_text="Empty: the feed's or playlist's own title."
    )
    artist = models.ForeignKey(
        Artist,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sources",
        help_text="Every video found is this artist's. Empty: read from each title.",
    )
    profile = models.ForeignKey(
        Profile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sources",
        help_text="Empty: the default profile.",
    )
    check_every = models.PositiveIntegerField(
        default=DEFAULT_EVERY,
        validators=[MinValueValidator(MIN_EVERY), MaxValueValidator(MAX_EVERY)],
        help_text="Minutes between checks.",
    )
    title_include = models.CharField(
        max_length=MAX_PATTERN,
        blank=True,
        validators=[valid_pattern],
        help_text="Only titles matching this regular expression (ignoring case).",
    )
    title_exclude = models.CharField(
        max_length=MAX_PATTERN,
        blank=True,
        validators=[valid_pattern],
        help_text="Never titles matching this regular expression (ignoring case).",
    )
    max_duration = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION)],
        help_text="Seconds; longer videos are skipped (when the source tells their length).",
    )
    published_after = models.DateField(
        null=True, blank=True, help_text="Older videos are skipped (when the source dates them)."
    )
    auto_download = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    # What the last check learnt: whether the URL is a feed, and its validators.
    is_feed = models.BooleanField(null=True, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_result = models.TextField(blank=True, help_text='"3 new of 10", or what went wrong.')
    last_ok = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "url"], name="one_source_per_url")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.url

    @property
    def subject(self) -> str:
        return f"source:{self.pk}"

    def clean(self) -> None:
        if self.artist and self.artist.owner_id != self.owner_id:
            raise ValidationError({"artist": "This artist is in another owner's library."})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Following a source of an artist monitors the artist (once, when
        the source is added: switching it off later on the artist sticks)."""
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding and self.artist_id:
            Artist.objects.filter(pk=self.artist_id).update(monitored=True)

    @property
    def filters(self) -> Filters:
        after = self.published_after
        return Filters(
            self.title_include,
            self.title_exclude,
            self.max_duration,
            after.isoformat() if after else "",
        )

    @property
    def videos(self):
        """The videos this source found (newest first); deleting the source keeps them."""
        found = Video.objects.filter(seen_entries__source=self).select_related("artist")
        return found.order_by("-created_at", "-pk")

    # -- checks -----------------------------------------------------------------

    def active_check(self) -> Job | None:
        return Job.objects.active().filter(kind=KIND, subject=self.subject).first()

    def request_check(self, user=None) -> tuple[Job, bool]:
        """Queue a check, or return the one queued or running (never two at once).
        A check is not retried: the next one is on the schedule anyway."""
        return Job.submit(
            KIND,
            user or self.owner,
            subject=self.subject,
            params={"source_id": self.pk},
            label=f"Check {self.display_name}"[:300],
            max_attempts=1,
        )

    def remove(self) -> None:
        """Stop following: an active check is cancelled, the videos found stay."""
        with transaction.atomic():
            if job := self.active_check():
                job.cancel()
            self.delete()

    def next_after(self, when) -> Any:
        interval = self.check_every * 60
        return when + timedelta(
            seconds=interval + random.uniform(0, min(interval / 10, MAX_JITTER))
        )

    def record_outcome(self, result: str, ok: bool, **found: Any) -> None:
        """A check ended: what it found, and when the next one is due."""
        now = timezone.now()
        fields = {
            "last_checked_at": now,
            "next_check_at": self.next_after(now),
            "last_result": result[:2000],
            "last_ok": ok,
            **found,
        }
        Source.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "url": self.url,
            "name": self.name,
            "artist_id": self.artist_id,
            "profile_id": self.profile_id,
            "check_every": self.check_every,
            "title_include": self.title_include,
            "title_exclude": self.title_exclude,
            "max_duration": self.max_duration,
            "published_after": self.published_after,
            "auto_download": self.auto_download,
            "enabled": self.enabled,
            "is_feed": self.is_feed,
            "last_checked_at": self.last_checked_at,
            "next_check_at": self.next_check_at,
            "last_result": self.last_result,
            "last_ok": self.last_ok,
            "owner_id": self.owner_id,
            "created_at": self.created_at,
        }


class SeenEntry(models.Model):
    """An entry a source has listed. Kept when its video is deleted, so it is
    never added again; ``skipped`` says why an entry did not become a video
    (a filter), and it is not reconsidered when the filters change."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="seen")
    entry_key = models.CharField(max_length=64)
    url = models.URLField(max_length=2048)
    title = models.CharField(max_length=300, blank=True)
    video = models.ForeignKey(
        Video, on_delete=models.SET_NULL, null=True, blank=True, related_name="seen_entries"
    )
    skipped = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "entry_key"], name="one_entry_per_source")
        ]

    def __str__(self) -> str:
        return self.title or self.url
