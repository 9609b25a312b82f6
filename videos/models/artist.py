"""The artist: one owner's name for the people behind some videos."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from mvidarr.roles import library_of
from videos.models.status import VideoStatus
from videos.models.text import clean_text, name_key, sort_name

MAX_NAME = 200
BY_SORT_NAME = (Lower("sort_name"), "pk")


def tidy_name(name: str | None) -> str:
    """An artist name on one line, single-spaced, cut to the field's size."""
    return " ".join(clean_text(name or "").split())[:MAX_NAME]


class ArtistQuerySet(models.QuerySet):
    def for_user(self, user) -> ArtistQuerySet:
        """What ``user`` may see: everything for staff, else their own (and
        a viewer its owner's, see ``mvidarr.roles``)."""
        return self if user.is_staff else self.filter(library_of(user))

    def by_sort_name(self) -> ArtistQuerySet:
        """Ordered by sort name whatever the case. Explicit, because a query
        that counts (GROUP BY) leaves the model's ordering out."""
        return self.order_by(*BY_SORT_NAME)

    def with_counts(self) -> ArtistQuerySet:
        """Each artist's number of videos (``video_count``) and of videos in
        each status (``wanted_count``, ``downloaded_count``, …), in the same
        query as the artists."""
        counts = {f"{s}_count": Count("videos", filter=Q(videos__status=s)) for s in VideoStatus}
        return self.annotate(video_count=Count("videos"), **counts)

    def for_names(self, owner_id: int, names: Iterable[str]) -> dict[str, Artist]:
        """The owner's artists of these names by ``name_key``, the missing ones
        created (in bulk; a name another request just created is found, not
        doubled)."""
        wanted: dict[str, str] = {}
        for name in names:
            if (name := tidy_name(name)) and (key := name_key(name)):
                wanted.setdefault(key, name)
        if not wanted:
            return {}
        found = {a.key: a for a in self.filter(owner_id=owner_id, key__in=wanted)}
        missing = [Artist(owner_id=owner_id, name=n) for k, n in wanted.items() if k not in found]
        if missing:
            for artist in missing:
                artist.tidy()  # bulk_create() does not call save()
            self.bulk_create(missing, ignore_conflicts=True)
            keys = [a.key for a in missing]
            found |= {a.key: a for a in self.filter(owner_id=owner_id, key__in=keys)}
        return found

    def named(self, owner_id: int, name: str | None) -> Artist | None:
        """The owner's artist called ``name`` (in any case), created if new;
        ``None`` for no name."""
        name = tidy_name(name)
        return self.for_names(owner_id, [name]).get(name_key(name)) if name else None


class Artist(models.Model):
    """An artist in one owner's library. Names are unique per owner whatever
    their case or spacing (``key``); ``sort_name`` is made from the name
    ("The Beatles" -> "Beatles, The") unless someone sets their own.
    ``monitored`` and ``auto_download`` are the owner's wishes for finding
    and fetching the artist's new videos."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artists"
    )
    name = models.CharField(max_length=MAX_NAME)
    sort_name = models.CharField(
        max_length=MAX_NAME, blank=True, help_text='Empty: made from the name ("Beatles, The").'
    )
    # name_key(name): casefolding may lengthen a name (ß -> ss), hence the room.
    key = models.CharField(max_length=MAX_NAME * 3, editable=False)
    monitored = models.BooleanField(default=False)
    auto_download = models.BooleanField(default=False)
    imvdb_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name="IMVDb id")
    # Discovery (``videos.discovery``): when a check was last started, and the
    # IMVDb videos handled already (each becomes a video once, ever).
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    imvdb_seen = models.JSONField(default=list, blank=True, editable=False)
    image = models.CharField(
        max_length=2048, blank=True, help_text="An image URL, or a path inside the library."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ArtistQuerySet.as_manager()

    class Meta:
        ordering = [*BY_SORT_NAME]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="one_artist_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        """The subject of the artist's check jobs."""
        return f"artist:{self.pk}"

    @classmethod
    def from_db(cls, db, field_names, values) -> Artist:
        artist = super().from_db(db, field_names, values)
        artist._loaded_name = artist.name if "name" in field_names else None
        return artist

    def tidy(self) -> None:
        """Clean name and sort name and set the key; a sort name that was made
        from the old name follows a new one."""
        loaded = getattr(self, "_loaded_name", None)
        self.name, self.sort_name = tidy_name(self.name), tidy_name(self.sort_name)
        if not self.sort_name or (loaded is not None and self.sort_name == sort_name(loaded)):
            self.sort_name = sort_name(self.name)
        self.key = name_key(self.name)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.tidy()
        if not self.key:
            raise ValueError("An artist needs a name.")
        super().save(*args, **kwargs)
        self._loaded_name = self.name

    @property
    def status_counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) of the statuses it has videos in, when
        fetched ``with_counts()``."""
        found = ((s.value, s.label, getattr(self, f"{s.value}_count", 0)) for s in VideoStatus)
        return [entry for entry in found if entry[2]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "name": self.name,
            "sort_name": self.sort_name,
            "monitored": self.monitored,
            "auto_download": self.auto_download,
            "imvdb_id": self.imvdb_id,
            "image": self.image or None,
            "owner_id": self.owner_id,
            "video_count": getattr(self, "video_count", None),
            "created_at": self.created_at,
        }
