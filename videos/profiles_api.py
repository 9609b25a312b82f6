"""``/api/profiles``: quality profiles. Everyone may read them (a video is
added with one); only staff change them."""

from __future__ import annotations

from typing import Literal

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator

from videos.models import MAX_HEIGHT, Profile, clean_text

router = Router(tags=["profiles"])
Container = Literal["any", "mp4", "mkv", "webm"]
Codec = Literal["copy", "h264"]


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean_text(value)
    if not value:
        raise ValueError("a profile needs a name")
    return value


class ProfileIn(Schema):
    name: str = Field(max_length=100)
    max_height: int | None = Field(None, ge=1, le=MAX_HEIGHT)
    container: Container = "any"
    audio_only: bool = False
    video_codec: Codec = "copy"
    is_default: bool = False

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str | None:
        return _name(value)


class ProfilePatch(Schema):
    name: str | None = Field(None, max_length=100)
    max_height: int | None = Field(None, ge=1, le=MAX_HEIGHT)
    container: Container | None = None
    audio_only: bool | None = None
    video_codec: Codec | None = None
    is_default: bool | None = None

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str | None) -> str | None:
        return _name(value)


class ProfileOut(Schema):
    id: int
    name: str
    max_height: int | None
    container: str
    audio_only: bool
    video_codec: str
    is_default: bool


def _save(profile: Profile) -> None:
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise HttpError(409, f"A profile named {profile.name!r} already exists.") from None


@router.get("/profiles", response=list[ProfileOut])
def list_profiles(request: HttpRequest):
    return [p.to_dict() for p in Profile.objects.all()]


@router.post("/profiles", response={201: ProfileOut})
def create_profile(request: HttpRequest, data: ProfileIn):
    """Add a profile (staff). ``is_default: true`` makes it the default in
    place of the current one."""
    profile = Profile(**data.dict())
    _save(profile)
    return Status(201, profile.to_dict())


@router.get("/profiles/{int:profile_id}", response=ProfileOut)
def get_profile(request: HttpRequest, profile_id: int):
    return get_object_or_404(Profile, pk=profile_id).to_dict()


@router.patch("/profiles/{int:profile_id}", response=ProfileOut)
def update_profile(request: HttpRequest, profile_id: int, data: ProfilePatch):
    """Change a profile (staff). There is always one default: make another
    profile the default rather than unsetting this one."""
    profile = get_object_or_404(Profile, pk=profile_id)
    changes = data.dict(exclude_unset=True)
    if changes.get("is_default") is False and profile.is_default:
        raise HttpError(400, "This is the default profile: make another one the default instead.")
    for field in ("name", "container", "audio_only", "video_codec", "is_default"):
        if changes.get(field) is not None:
            setattr(profile, field, changes[field])
    if "max_height" in changes:  # null is a value here: the best there is
        profile.max_height = changes["max_height"]
    _save(profile)
    return profile.to_dict()
