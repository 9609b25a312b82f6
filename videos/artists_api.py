"""``/api/artists``: the artists of a library. People see and change their own
(staff: everyone's); a video names its artist by ``artist_id``."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import field_validator

from videos.api import JobStarted, Pages
from videos.discovery import NothingToCheck, check_now
from videos.editing import rename_files
from videos.models import MAX_ID, Artist, clean_text, name_key

router = Router(tags=["artists"])
MAX_IMAGE = 2048


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean_text(value)
    if not value:
        raise ValueError("an artist needs a name")
    return value


def _image(value: str | None) -> str | None:
    """An http(s) URL, or a relative path inside the library (no ``..``)."""
    if not value:
        return value
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            raise ValueError("only http:// and https:// image URLs are allowed")
        return value
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in value:
        raise ValueError("a path must be relative to the library, without '..'")
    return str(path)


class ArtistIn(Schema):
    name: str = Field(max_length=200)
    sort_name: str = Field("", max_length=200)
    monitored: bool = False
    auto_download: bool = False
    imvdb_id: int | None = Field(None, ge=1, le=MAX_ID)
    image: str = Field("", max_length=MAX_IMAGE)

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str | None:
        return _name(value)

    @field_validator("sort_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_text(value)

    @field_validator("image")
    @classmethod
    def _clean_image(cls, value: str) -> str | None:
        return _image(value)


class ArtistPatch(Schema):
    name: str | None = Field(None, max_length=200)
    sort_name: str | None = Field(None, max_length=200)
    monitored: bool | None = None
    auto_download: bool | None = None
    imvdb_id: int | None = Field(None, ge=1, le=MAX_ID)
    image: str | None = Field(None, max_length=MAX_IMAGE)

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str | None) -> str | None:
        return _name(value)

    @field_validator("sort_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    @field_validator("image")
    @classmethod
    def _clean_image(cls, value: str | None) -> str | None:
        return _image(value)


class ArtistOut(Schema):
    id: int
    name: str
    sort_name: str
    monitored: bool
    auto_download: bool
    imvdb_id: int | None
    image: str | None
    owner_id: int
    video_count: int | None
    created_at: datetime
    job_id: str | None = None  # after a rename: the job renaming its files

    @staticmethod
    def resolve_image(obj: Artist | dict) -> str | None:
        """None for none, from a listed model as from ``to_dict()``."""
        return obj["image"] if isinstance(obj, dict) else obj.image or None


def get_artist_for_user(request: HttpRequest, artist_id: int) -> Artist:
    return get_object_or_404(Artist.objects.for_user(request.auth).with_counts(), pk=artist_id)


def _save(artist: Artist) -> None:
    try:
        with transaction.atomic():
            artist.save()
    except IntegrityError:
        other = Artist.objects.filter(owner_id=artist.owner_id, key=name_key(artist.name)).first()
        detail = f"An artist named {artist.name!r} already exists"
        raise HttpError(409, f"{detail} (id {other.pk})." if other else f"{detail}.") from None


@router.get("/artists", response=list[ArtistOut])
@paginate(Pages, page_size=50)
def list_artists(request: HttpRequest, q: str = Query("", max_length=200)):
    """Your artists by sort name, with their number of videos; ``q`` finds a
    part of the name."""
    artists = Artist.objects.for_user(request.auth).with_counts().by_sort_name()
    if q := clean_text(q):
        artists = artists.filter(Q(name__icontains=q) | Q(sort_name__icontains=q))
    return artists


@router.post("/artists", response={201: ArtistOut})
def create_artist(request: HttpRequest, data: ArtistIn):
    """Add an artist to your library. A name you already have (in any case)
    is a 409 naming that artist's id."""
    artist = Artist(owner=request.auth, **data.dict())
    _save(artist)
    artist.video_count = 0
    return Status(201, artist.to_dict())


@router.get("/artists/{int:artist_id}", response=ArtistOut)
def get_artist(request: HttpRequest, artist_id: int):
    return get_artist_for_user(request, artist_id).to_dict()


@router.patch("/artists/{int:artist_id}", response=ArtistOut)
def update_artist(request: HttpRequest, artist_id: int, data: ArtistPatch):
    """Change an artist. A new name renames its videos' files too, as one
    job (``job_id``). ``imvdb_id: null`` clears it; an empty ``sort_name`` is
    made from the name again."""
    artist = get_artist_for_user(request, artist_id)
    old_name = artist.name
    changes = data.dict(exclude_unset=True)
    for field in ("name", "sort_name", "monitored", "auto_download", "image"):
        if changes.get(field) is not None:
            setattr(artist, field, changes[field])
    if "imvdb_id" in changes:
        artist.imvdb_id = changes["imvdb_id"]
    _save(artist)
    renaming = None
    if artist.name != old_name:  # its files follow the new name
        videos = list(artist.videos.exclude(file="").select_related("artist"))
        renaming = rename_files(request.auth, videos, f"Rename the files of {artist.name}")
    return {**artist.to_dict(), "job_id": str(renaming.pk) if renaming else None}


class ChecksStarted(JobStarted):
    job_ids: list[str]


@router.post("/artists/{int:artist_id}/check", response={202: ChecksStarted})
def check_artist(request: HttpRequest, artist_id: int):
    """Look for the artist's new videos now, as a job (``check_artist``): on
    IMVDb, whose videos with a YouTube or Vimeo source become wanted videos
    (downloaded with ``auto_download``). A check already queued or running is
    returned. The artist's followed sources are checked too (``job_ids``:
    every check started; ``job_id``: the first, IMVDb's when a key is set).
    400 when there is nowhere to look: no IMVDb API key and no source."""
    artist = get_artist_for_user(request, artist_id)
    try:
        jobs = check_now(artist)
    except NothingToCheck as e:
        raise HttpError(400, str(e)) from None
    body = {"job_id": str(jobs[0].pk), "status": jobs[0].status}
    return Status(202, {**body, "job_ids": [str(job.pk) for job in jobs]})
