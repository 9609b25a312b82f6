"""``GET /videos/<id>/file``: a video's library file, with HTTP Range; and
``GET /videos/<id>/thumbnail/<key>.jpg``: its thumbnails, cached by browsers.

Browsers play a ``<video>`` by asking for byte ranges (the header first, then
wherever the user seeks), so the view answers ``Range: bytes=…`` with 206 and
the one range asked for. Several ranges in one request (rare, and never sent
by media elements) get the whole file, as RFC 9110 allows.

The body is an *async* iterator on purpose: under ASGI, Django reads a
synchronous streaming body (``FileResponse`` included) into a list before
sending it, which would hold a whole video in memory.

A 206 carries at most ``RANGE_LIMIT`` bytes, even for ``bytes=N-``: daphne
writes whatever the app sends into the socket's buffer without waiting for
the client, and a browser that has buffered enough video stops reading but
keeps the connection open, so an uncapped range would pile the rest of the
file up in the server's memory. The ``Content-Range`` says where the part
ends and players ask for the next one when they need it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.http import require_safe

from videos.views import get_video_for_user

CHUNK = 256 * 1024
RANGE_LIMIT = 8 * 1024 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A thumbnail's URL changes whenever it is made anew (``?v=``), so browsers
# may keep one for long; they still revalidate with ETag / Last-Modified.
THUMBNAIL_CACHE = "private, max-age=31536000"
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "ts": "video/mp2t",
    "flv": "video/x-flv",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
}


class Unsatisfiable(ValueError):
    """A range that starts past the end of the file."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte positions (inclusive) for a ``Range`` header;
    ``None`` to send the whole file (no header, several ranges, bad syntax).
    Raises ``Unsatisfiable`` when no byte of the range exists."""
    match = RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-N": the last N bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - int(last)), size - 1
    if int(first) >= size:
        raise Unsatisfiable(header)
    end = size - 1 if not last else min(int(last), size - 1)
    if end < int(first):
        return None  # last before first: syntactically invalid, so ignored
    return int(first), end


async def read_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, a chunk at a time; the reads
    run in a thread so a slow disk never stalls the event loop."""
    with path.open("rb") as f:
        f.seek(start)
        while length > 0:
            chunk = await asyncio.to_thread(f.read, min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


@login_required
@require_safe
def video_file(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    path = video.library_file()
    if path is None:
        raise Http404("This video has no file in the library")
    size = path.stat().st_size
    try:
        wanted = parse_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = wanted if wanted else (0, size - 1)
    if wanted:
        last = min(last, first + RANGE_LIMIT - 1)
    length = last - first + 1
    status = 206 if wanted else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status)
    else:
        response = StreamingHttpResponse(read_chunks(path, first, length), status=status)
    response["Content-Type"] = CONTENT_TYPES.get(
        path.suffix[1:].lower(), "application/octet-stream"
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(False, path.name)
    response["Cache-Control"] = "private, no-cache"
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


@login_required
@require_safe
def video_thumbnail(request: HttpRequest, pk: int, key: int) -> HttpResponse:
    """One of the video's thumbnails (``Video.thumbnail_sizes``); 304 when the
    browser's copy is current (``If-None-Match`` / ``If-Modified-Since``)."""
    video = get_video_for_user(request, pk)
    if str(key) not in video.thumbnail_sizes:
        raise Http404("This video has no thumbnail of that size")
    path = video.thumbnail_file(key)
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            response = get_conditional_response(
                request, etag=etag, last_modified=int(stat.st_mtime)
            )
            if response is None:
                response = HttpResponse(f.read(), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404("This thumbnail is gone") from None
    response["ETag"] = etag
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = THUMBNAIL_CACHE
    return response
