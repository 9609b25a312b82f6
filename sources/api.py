"""``/api/sources``: followed playlists, channels and feeds. People see and
change their own (staff: everyone's); someone else's is a 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import StrictInt, field_validator

from sources.filters import MAX_PATTERN, BadFilter, compile_pattern
from sources.models import MAX_DURATION, MAX_EVERY, MIN_EVERY, Source
from videos.api import Pages
from videos.models import MAX_ID, Artist, Profile, UnknownProfile, clean_text
from videos.validation import MAX_URL_LENGTH, BadUrl, check_url

router = Router(tags=["sources"])
ProfileRef = StrictInt | Annotated[str, Field(max_length=100)] | None


def _pattern(value: str | None) -> str | None:
    if value:
        try:
            compile_pattern(value)
        except BadFilter as e:
            raise ValueError(str(e)) from None
    return value


class SourceFields(Schema):
    name: str | None = Field(None, max_length=200)
    artist_id: int | None = Field(None, ge=1, le=MAX_ID)
    profile: ProfileRef = None
    check_every: int | None = Field(None, ge=MIN_EVERY, le=MAX_EVERY)
    title_include: str | None = Field(None, max_length=MAX_PATTERN)
    title_exclude: str | None = Field(None, max_length=MAX_PATTERN)
    max_duration: int | None = Field(None, ge=1, le=MAX_DURATION)
    published_after: date | None = None
    auto_download: bool | None = None
    enabled: bool | None = None

    @field_validator("title_include", "title_exclude")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        return _pattern(value)

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)


class SourceIn(SourceFields):
    url: str = Field(max_length=MAX_URL_LENGTH)


class SourceOut(Schema):
    id: int
    url: str
    name: str
    artist_id: int | None
    profile_id: int | None
    check_every: int
    title_include: str
    title_exclude: str
    max_duration: int | None
    published_after: date | None
    auto_download: bool
    enabled: bool
    is_feed: bool | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    last_result: str
    last_ok: bool | None
    owner_id: int
    created_at: datetime
    job_id: str | None = None  # the check queued by this request


class CheckOut(Schema):
    job_id: str
    status: str


class Conflict(Schema):
    detail: str
    id: int


def get_source_for_user(request: HttpRequest, source_id: int) -> Source:
    return get_object_or_404(Source.objects.for_user(request.auth), pk=source_id)


def _apply(source: Source, changes: dict) -> None:
    """Set what the request changes; an artist or profile that does not
    exist (or an artist of another owner's) is a 400."""
    if "artist_id" in changes:
        artist_id = changes.pop("artist_id")
        source.artist = None
        if artist_id is not None:
            source.artist = Artist.objects.filter(owner_id=source.owner_id, pk=artist_id).first()
            if source.artist is None:
                raise HttpError(400, f"No such artist: {artist_id}.")
    if "profile" in changes:
        try:
            source.profile = Profile.objects.resolve(changes.pop("profile"))
        except UnknownProfile as e:
            raise HttpError(400, str(e)) from None
    for field, value in changes.items():
        if value is not None or field in ("max_duration", "published_after"):
            setattr(source, field, value)
    for field in ("name", "title_include", "title_exclude"):
        setattr(source, field, getattr(source, field) or "")


@router.get("/sources", response=list[SourceOut])
@paginate(Pages, page_size=50)
def list_sources(request: HttpRequest):
    """Your followed sources, by name."""
    return Source.objects.for_user(request.auth)


@router.post("/sources", response={201: SourceOut, 409: Conflict})
def create_source(request: HttpRequest, data: SourceIn):
    """Follow a playlist, channel or feed; its first check is queued at once
    (``job_id``). A URL you already follow is a 409 with that source's ``id``."""
    try:
        url = check_url(data.url)
    except BadUrl as e:
        raise HttpError(400, str(e)) from None
    if existing := Source.objects.filter(owner=request.auth, url=url).first():
        return Status(409, {"detail": "You already follow this URL.", "id": existing.pk})
    source = Source(owner=request.auth, url=url)
    _apply(source, data.dict(exclude={"url"}, exclude_unset=True))
    try:
        with transaction.atomic():
            source.save()
            job, _ = source.request_check()
    except IntegrityError:  # the same URL, added by a request at the same moment
        existing = Source.objects.get(owner=request.auth, url=url)
        return Status(409, {"detail": "You already follow this URL.", "id": existing.pk})
    return Status(201, {**source.to_dict(), "job_id": str(job.pk)})


@router.get("/sources/{int:source_id}", response=SourceOut)
def get_source(request: HttpRequest, source_id: int):
    return get_source_for_user(request, source_id).to_dict()


@router.patch("/sources/{int:source_id}", response=SourceOut)
def update_source(request: HttpRequest, source_id: int, data: SourceFields):
    """Change a source; a field left out stays. ``artist_id``, ``profile``,
    ``max_duration`` and ``published_after`` take ``null`` to clear them.
    A new ``check_every`` moves the next check accordingly."""
    source = get_source_for_user(request, source_id)
    every = source.check_every
    _apply(source, data.dict(exclude_unset=True))
    if source.check_every != every and source.last_checked_at:
        source.next_check_at = source.next_after(source.last_checked_at)
    source.save()
    return source.to_dict()


@router.delete("/sources/{int:source_id}", response={204: None})
def delete_source(request: HttpRequest, source_id: int):
    """Stop following; the videos it found stay in the library."""
    get_source_for_user(request, source_id).remove()
    return Status(204, None)


@router.post("/sources/{int:source_id}/check", response={202: CheckOut})
def check_source(request: HttpRequest, source_id: int):
    """Check now; a check already queued or running is returned instead of a second."""
    job, _ = get_source_for_user(request, source_id).request_check()
    return Status(202, {"job_id": str(job.pk), "status": job.status})
