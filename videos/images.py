"""Thumbnails, made inside a job's child process (see ``jobs.child``): the only
module that imports Pillow. No database here; the worker puts the files in
place (``videos.thumbnails``).

A thumbnail comes from the source's own picture (yt-dlp's ``thumbnail``),
fetched with every connection checked (``videos.netguard``), or else from a
frame at 10 % of the video, taken by ffmpeg (``media.grab_frame``). Whatever
arrives is untrusted: at most ``MAX_IMAGE_BYTES``, only the formats sites
serve pictures in, and Pillow's decompression-bomb check is kept (its warning,
for an image over ~89 megapixels, is an error here too).
"""

from __future__ import annotations

import io
import os
import warnings
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib import request
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from jobs.child import Reporter, WorkError
from videos import media, netguard

# The widths made, each a key of ``Video.thumbnail_sizes``; a narrower source gives
# its own width for the larger keys (never upscaled).
THUMB_WIDTHS = (320, 640, 1280)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# What a fetched picture may be: the formats sites serve thumbnails in.
WEB_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
FETCH_TIMEOUT = 20
CHUNK = 64 * 1024
JPEG_QUALITY = 85
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) MVidarr"


def fetch(url: str, params: dict[str, Any], reporter: Reporter) -> bytes:
    """The picture at ``url``, at most ``MAX_IMAGE_BYTES``; failures come out
    classified, a refused address for good."""
    shown = url[:200]
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise WorkError(
            f"Refused the thumbnail URL {shown!r}: only http(s) is fetched", "not_image"
        )
    guard = netguard.install(params.get("network_policy"))
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
    opener = netguard.http_opener()
    try:
        with opener.open(request.Request(url, headers=headers), timeout=FETCH_TIMEOUT) as resp:
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_IMAGE_BYTES:
                raise _too_large(shown)
            data = bytearray()
            while chunk := resp.read(CHUNK):
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    raise _too_large(shown)
                reporter.progress(stage="fetching", downloaded_bytes=len(data))
    except HTTPError as e:
        if 300 <= e.code < 400:  # a redirect urllib refused to follow (to file:, ftp:, a loop)
            raise WorkError(f"Refused the thumbnail {shown}: {e.reason}", "not_image") from None
        code, transient = netguard.http_failure(e.code)
        raise WorkError(f"The thumbnail {shown} answered HTTP {e.code}", code, transient) from None
    except (URLError, OSError, HTTPException, ValueError) as e:
        if guard.refused:
            raise WorkError(guard.refused[0], "refused_address") from None
        reason = e.reason if isinstance(e, URLError) else e
        # Connections reset, timeouts, bodies cut short may pass; a bad URL will not.
        transient = isinstance(reason, (OSError, HTTPException))
        code = "network" if transient else "http_error"
        raise WorkError(
            f"Could not fetch the thumbnail {shown}: {reason}", code, transient
        ) from None
    return bytes(data)


def _too_large(shown: str) -> WorkError:
    limit = MAX_IMAGE_BYTES // (1024 * 1024)
    return WorkError(f"Refused the thumbnail {shown}: larger than {limit} MB", "image_too_large")


def open_image(data: bytes, formats: tuple[str, ...], what: str) -> Image.Image:
    """Decode ``data`` as one of ``formats``, in RGB, upright; a JPEG is
    decoded at a reduced scale when it is far larger than needed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)
            width, height = image.size
            largest = max(THUMB_WIDTHS)
            if width > largest:
                image.draft("RGB", (largest, max(1, height * largest // width)))
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGB", "L"):
                return image.convert("RGB")
            # Transparency goes onto black, as a video frame has no alpha.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            return Image.alpha_composite(background, rgba).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise WorkError(f"Refused {what}: {e}", "image_too_large") from None
    except UnidentifiedImageError:
        kinds = ", ".join(formats)
        raise WorkError(f"Refused {what}: it is not an image ({kinds})", "not_image") from None
    except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt
        raise WorkError(f"Refused {what}: the image is damaged ({e})", "not_image") from None


def write_thumbnails(image: Image.Image, folder: Path) -> dict[str, int]:
    """``<key>.jpg`` in ``folder`` for each of ``THUMB_WIDTHS``, largest first,
    each resized from the one before. A key wider than the image gets the image
    at its own width (one file, linked under each such key). Returns each
    key's real width.

    Pillow's bicubic filter (antialiased when shrinking, like all of its
    filters) takes half the time of Lanczos, with no difference to see at
    these sizes: resizing is most of a thumbnail job's work."""
    sizes: dict[str, int] = {}
    made: dict[int, Path] = {}
    current = image
    for key in sorted(THUMB_WIDTHS, reverse=True):
        width = min(key, image.width)
        path = folder / f"{key}.jpg"
        path.unlink(missing_ok=True)  # from an attempt before, which failed later
        if width in made:
            os.link(made[width], path)
        else:
            if width != current.width:
                height = max(1, round(image.height * width / image.width))
                current = current.resize((width, height), Image.Resampling.BICUBIC)
            current.save(path, "JPEG", quality=JPEG_QUALITY)
            made[width] = path
        sizes[str(key)] = width
    return sizes


def make_thumbnails(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """The child's work: the picture (fetched, or a frame of the file), then
    the JPEGs in the job's work directory."""
    netguard.install(params.get("network_policy"))
    if url := params.get("url"):
        reporter.progress(stage="fetching", force=True)
        data = fetch(url, params, reporter)
        image = open_image(data, WEB_FORMATS, f"the thumbnail {url[:200]}")
    else:
        reporter.progress(stage="extracting", force=True)
        data = media.grab_frame(Path(params["file"]), params["at"], max(THUMB_WIDTHS), params)
        image = open_image(data, media.FRAME_FORMATS, "the frame ffmpeg took")
    del data
    reporter.progress(stage="resizing", force=True)
    sizes = write_thumbnails(image, Path(params["work_dir"]))
    return {"sizes": sizes, "from": "thumbnail" if url else "frame"}
