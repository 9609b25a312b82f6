"""Quality profiles: how a video is fetched and processed."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from videos.models.text import MAX_ID, clean_text

MAX_HEIGHT = 8640


class UnknownProfile(ValueError):
    """A profile asked for by a name or id that does not exist."""


class ProfileQuerySet(models.QuerySet):
    def default(self) -> Profile | None:
        return self.filter(is_default=True).first()

    def annotate_usage(self) -> ProfileQuerySet:
        """Each profile with ``video_count``, the videos that ask for it."""
        return self.annotate(video_count=models.Count("videos"))

    def resolve(self, value: str | int | None) -> Profile | None:
        """The profile named ``value``, or with id ``value``; ``None`` for none
        asked. Raises ``UnknownProfile`` for anything else."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            if found := self.filter(name=clean_text(value)).first():
                return found
            if not value.strip().isdigit():
                raise UnknownProfile(f"No such profile: {value[:100]!r}")
            value = int(value)
        # Bounded first: a huge number would overflow the database's integer.
        if 1 <= value <= MAX_ID and (found := self.filter(pk=value).first()):
            return found
        raise UnknownProfile(f"No such profile: {value!r}")


class Profile(models.Model):
    """How a video is fetched: its largest height, container, audio only, codec.

    Exactly one profile is the default (a conditional unique constraint); a
    video without a profile of its own gets the default of the day it is
    downloaded. ``settings()`` is what the download's child process receives.
    """

    class Container(models.TextChoices):
        ANY = "any"
        MP4 = "mp4"
        MKV = "mkv"
        WEBM = "webm"

    class Codec(models.TextChoices):
        COPY = "copy"
        H264 = "h264"

    name = models.CharField(max_length=100, unique=True)
    max_height = models.PositiveIntegerField(
        null=True, blank=True, help_text="Largest video height in lines; empty for the best."
    )
    container = models.CharField(max_length=4, choices=Container.choices, default=Container.ANY)
    audio_only = models.BooleanField(default=False)
    video_codec = models.CharField(max_length=4, choices=Codec.choices, default=Codec.COPY)
    is_default = models.BooleanField(default=False)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"
            ),
            models.CheckConstraint(
                condition=Q(max_height__isnull=True)
                | Q(max_height__gte=1, max_height__lte=MAX_HEIGHT),
                name="profile_max_height_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.is_default and Profile.objects.filter(pk=self.pk, is_default=True).exists():
            raise ValidationError(
                {"is_default": "This is the default profile: make another one the default instead."}
            )

    def validate_constraints(self, exclude: Any = None) -> None:
        if self.is_default:  # save() takes the mark from the old default: no conflict
            exclude = {*(exclude or ()), "is_default"}
        super().validate_constraints(exclude)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving a profile as the default takes the mark from the old one in
        the same transaction, so there is never a second default."""
        self.name = clean_text(self.name)
        with transaction.atomic():
            if self.is_default:
                Profile.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)

    def make_default(self) -> None:
        with transaction.atomic():
            # Lock the current default first, so two switches run one after the other.
            list(Profile.objects.select_for_update().filter(is_default=True))
            Profile.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            Profile.objects.filter(pk=self.pk).update(is_default=True)
        self.is_default = True

    def settings(self) -> dict[str, Any]:
        """Plain parameters for the download's child process: no Django in
        them (a choice not read from the database is its enum member, which
        the child could not unpickle)."""
        return {
            "name": self.name,
            "max_height": self.max_height,
            "container": str(self.container),
            "audio_only": self.audio_only,
            "video_codec": str(self.video_codec),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.pk, **self.settings(), "is_default": self.is_default}


def download_settings(profile: Profile | None) -> dict[str, Any]:
    """What a download gets: its own profile, else today's default, else the best."""
    profile = profile or Profile.objects.default()
    return profile.settings() if profile else Profile(name="Best").settings()
