"""Shared pieces of the in-process page tests."""

from __future__ import annotations

import uuid
import warnings

from jobs.models import Job
from videos.models import Artist, Video

HTMX = {"HX-Request": "true"}
PAGES = ["/", "/activity/", "/?status=failed"]


def video_of(user, title="Song", artist: str = "", **fields) -> Video:
    """A video of ``user``'s, by the artist of that name (made if new)."""
    fields.setdefault("url", f"https://videos.example.com/watch?v={uuid.uuid4().hex}")
    artist = Artist.objects.named(user.pk, artist)
    return Video.objects.create(owner=user, title=title, artist=artist, **fields)


def job_of(user, video=None, status="queued", kind="download_video", **fields) -> Job:
    if video is not None:
        fields.setdefault("subject", video.subject)
        fields.setdefault("label", video.label)
        fields.setdefault("params", {"video_id": video.pk})
    return Job.objects.create(kind=kind, owner=user, status=status, **fields)


def section(html: str, name: str) -> str:
    """The HTML of <section id="name"> on the Activity page."""
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def row_html(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</article>", start)]


def body_of(response) -> bytes:
    """The whole body, also of a streaming response with an async iterator
    (the file view's), which the sync test client can only read in one go."""
    if not response.streaming:
        return response.content
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Warning)  # "must consume asynchronous iterators"
        return b"".join(response)


def library_file_of(video, library, data: bytes, name: str = "Band/Band - Song [x].mp4"):
    """Put ``data`` in the library as the video's downloaded file."""
    path = library / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    video.file, video.file_size, video.status = name, len(data), "downloaded"
    video.save()
    return path
