from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate
from pydantic import StrictInt, field_validator

from jobs.api import JobOut
from videos.browse import SORTS, browse
from videos.editing import edit_video, edit_videos
from videos.models import MAX_ID, Profile, UnknownProfile, Video, clean_text
from videos.tasks import start_bulk_download
from videos.validation import MAX_URL_LENGTH, BadUrl
from videos.views import get_video_for_user

router = Router(tags=["videos"])
# One of these or nothing (422 otherwise).
STATUS_PATTERN = f"^({'|'.join(Video.Status.values)})?$"
SORT_PATTERN = f"^({'|'.join(SORTS)})$"


class Pages(PageNumberPagination):
    """Page numbers a database can turn into an offset (no 500 for ?page=10**23)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=1000)


class VideoIn(Schema):
    url: str = Field(max_length=MAX_URL_LENGTH)
    title: str = Field("", max_length=300)
    artist: str = Field("", max_length=200)
    profile: StrictInt | Annotated[str, Field(max_length=100)] | None = None

    @field_validator("title", "artist")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_text(value)


class VideoPatch(Schema):
    """Metadata to change; a field left out stays, a null text is cleared."""

    artist: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=300)
    year: int | None = Field(None, ge=1800, le=2200)
    album: str | None = Field(None, max_length=200)
    genre: str | None = Field(None, max_length=100)
    director: str | None = Field(None, max_length=200)

    @field_validator("artist", "title", "album", "genre", "director")
    @classmethod
    def _one_line(cls, value: str | None) -> str:
        return clean_text(value or "")


class BulkIn(Schema):
    video_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=5000)


class BulkPatch(VideoPatch):
    """The same metadata for many videos; a title is each video's own."""

    video_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=5000)
    title: None = Field(None, exclude=True)


class BulkEdited(Schema):
    updated: int
    job_id: str | None = None
    status: str | None = None


class VideoOut(Schema):
    id: int
    url: str
    title: str
    artist: str
    artist_id: int | None = None
    status: str
    error: str | None
    file: str | None
    file_size: int | None
    duration: float | None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    container: str | None = None
    year: int | None = None
    album: str | None = None
    genre: str | None = None
    director: str | None = None
    thumbnail_url: str | None
    # Each thumbnail size made ("320", "640", "1280") and its URL; {} before any is.
    thumbnails: dict[str, str] = {}
    profile_id: int | None
    created_at: datetime
    job_id: str | None = None

    @staticmethod
    def resolve_artist(obj: Video | dict) -> str:
        """The artist's name (a video from a list is a model, not ``to_dict()``)."""
        return obj["artist"] if isinstance(obj, dict) else obj.artist_name


class JobStarted(Schema):
    job_id: str
    status: str


def _add_video(request: HttpRequest, data: VideoIn) -> tuple[Video, bool]:
    try:
        profile = Profile.objects.resolve(data.profile)
        return Video.objects.add(request.auth, data.url, data.title, data.artist, profile)
    except (BadUrl, UnknownProfile) as e:
        raise HttpError(400, str(e)) from None


@router.post("/videos", response={200: VideoOut, 201: VideoOut})
def create_video(request: HttpRequest, data: VideoIn):
    """Add a video by URL and queue reading its metadata. Adding a URL that is
    already in your library returns that video (200) instead of a copy.
    ``profile`` (a name or id) is the quality profile its download will use;
    without one, the default of the day it is downloaded."""
    video, created = _add_video(request, data)
    if not created:
        return Status(200, video.to_dict())
    job = video.request_info(request.auth)
    return Status(201, {**video.to_dict(), "job_id": str(job.pk)})


@router.get("/videos", response=list[VideoOut])
@paginate(Pages, page_size=50)
def list_videos(
    request: HttpRequest,
    status: str = Query("", pattern=STATUS_PATTERN),
    q: str = Query("", max_length=200),
    artist: str = Query("", max_length=200),
    artist_id: int | None = Query(None, ge=1, le=MAX_ID),
    year: int | None = Query(None, ge=1800, le=2200),
    has_file: bool | None = None,
    sort: str = Query("added", pattern=SORT_PATTERN),
    order: str = Query("", pattern="^(reverse)?$"),
):
    """Search (``q``: title or artist name), filter and sort the library.
    ``artist`` is a name (in any case), ``artist_id`` an artist's id; ``sort``
    is one of added (newest first), title, artist, year, duration, size, and
    ``order=reverse`` turns it round."""
    return browse(
        Video.objects.for_user(request.auth),
        q=clean_text(q),
        status=status,
        artist=artist,
        artist_id=artist_id,
        year=year,
        has_file=has_file,
        sort=sort,
        reverse=order == "reverse",
    )


@router.get("/videos/{int:video_id}", response=VideoOut)
def get_video(request: HttpRequest, video_id: int):
    return get_video_for_user(request, video_id).to_dict()


@router.patch("/videos/{int:video_id}", response={200: VideoOut, 202: JobStarted})
def update_video(request: HttpRequest, video_id: int, data: VideoPatch):
    """Change a video's metadata. 200 with the video when nothing on disk
    changes; 202 with the job that renames its files (video, NFO, thumbnail)
    by ``MVIDARR_LIBRARY_TEMPLATE`` when it has a file."""
    video = get_video_for_user(request, video_id)
    job = edit_video(video, data.dict(exclude_unset=True), request.auth)
    if job is None:
        return Status(200, video.to_dict())
    return Status(202, {"job_id": str(job.pk), "status": job.status})


@router.post("/videos/{int:video_id}/download", response={202: JobStarted})
def download_video(request: HttpRequest, video_id: int, now: bool = False):
    """Queue a download; if one is already queued or running, that one is
    returned. ``?now=true`` puts it at the front of the queue. A downloaded
    video is downloaded again: the new file replaces the old one (with its
    NFO and thumbnail) only once it is in the library."""
    job, _ = get_video_for_user(request, video_id).request_download(request.auth)
    if now:
        job.prioritize()
    return Status(202, {"job_id": str(job.pk), "status": job.status})


@router.delete("/videos/{int:video_id}", response={204: None})
def delete_video(request: HttpRequest, video_id: int, delete_file: bool = False):
    """Delete a video from your library. Its queued and running jobs are
    cancelled first (a running download stops within a second).
    ``?delete_file=true`` also removes its file, NFO and thumbnail from the
    library folder (never anything outside it); by default they stay."""
    get_video_for_user(request, video_id).remove(delete_file=delete_file)
    return Status(204, None)


@router.post("/videos/{int:video_id}/ignore", response=VideoOut)
def ignore_video(request: HttpRequest, video_id: int):
    """Set the video ``ignored``: bulk and playlist downloads leave it out,
    and a download of it that is queued or running is cancelled. Asking for
    its own download (``POST /api/videos/{id}/download``) still works."""
    video = get_video_for_user(request, video_id)
    video.ignore()
    return video.to_dict()


@router.post("/videos/{int:video_id}/unignore", response=VideoOut)
def unignore_video(request: HttpRequest, video_id: int):
    """Undo ``ignore``: the video is ``downloaded`` again if it has a file, else ``wanted``."""
    video = get_video_for_user(request, video_id)
    video.unignore()
    return video.to_dict()


@router.patch("/videos/bulk", response={200: BulkEdited, 202: BulkEdited})
def bulk_edit(request: HttpRequest, data: BulkPatch):
    """Give the videos the same artist, year, album, genre or director (a
    field left out stays). 200 when no file needs renaming; 202 with one
    parent job renaming the files of the videos that changed and have one."""
    videos = _own_videos(request, data.video_ids)
    changes = data.dict(exclude_unset=True, exclude={"video_ids", "title"})
    updated, job = edit_videos(videos, changes, request.auth)
    if job is None:
        return Status(200, {"updated": updated})
    return Status(202, {"updated": updated, "job_id": str(job.pk), "status": job.status})


@router.post("/videos/bulk/download", response={202: JobOut})
def bulk_download(request: HttpRequest, data: BulkIn):
    """One parent job with a child download per video (videos already queued
    or downloading keep their job and are not added; ignored ones are left out)."""
    videos = _own_videos(request, data.video_ids)
    return Status(202, start_bulk_download(request.auth, videos).to_dict())


def _own_videos(request: HttpRequest, video_ids: list[int]) -> list[Video]:
    """The videos of these ids, all of them the user's (staff: anyone's), or 404."""
    ids = set(video_ids)
    videos = list(Video.objects.for_user(request.auth).filter(pk__in=ids).select_related("artist"))
    if missing := sorted(ids - {v.pk for v in videos}):
        raise HttpError(404, f"No such video(s): {', '.join(map(str, missing[:20]))}")
    return videos
