"""The only module that imports yt-dlp. Its functions run inside a job's child
process (see ``jobs.child``): they take plain parameters and a reporter, and
return plain dicts or raise ``WorkError`` with a classified reason.
"""

from __future__ import annotations

import errno
import re
import ssl
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.downloader.external import ExternalFD
from yt_dlp.downloader.rtmp import RtmpFD
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.networking import common as networking
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import ContentTooShortError, DownloadError, UnsupportedError

from jobs.child import Reporter, WorkError
from videos import media, netguard, probing
from videos.ytdlp_options import NO_ENTRIES, base_options, download_options

TAIL_LINES = 15
UNSUPPORTED = "Unsupported URL: MVidarr finds no video it can download at this address"
DISK_FULL = "The disk is full: no space left to save the download"
INFO_KEYS = (
    "id",
    "title",
    "track",
    "artist",
    "artists",
    "creator",
    "uploader",
    "channel",
    "album",
    "duration",
    "thumbnail",
    "webpage_url",
    "extractor",
    "upload_date",
    "release_year",
    "ext",
    "width",
    "height",
    "vcodec",
    "acodec",
    "tags",
)
# The fields of a playlist entry that name its artist and title.
ENTRY_FIELDS = ("title", "track", "artist", "creator", "uploader", "channel")
# What a followed source's filters read of an entry, when the site tells.
ENTRY_FACTS = ("duration", "timestamp", "upload_date")


class _Logger:
    """Forwards yt-dlp's warnings and errors to the job's log, and keeps its
    last lines of output to add to the log when the attempt fails."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    def debug(self, msg: str) -> None:
        self.tail.append(msg)

    info = debug

    def warning(self, msg: str) -> None:
        self.tail.append(msg)
        self.reporter.log("warning", _clean(msg))

    def error(self, msg: str) -> None:
        self.tail.append(msg)
        self.reporter.log("error", _clean(msg))

    def flush_tail(self) -> None:
        if self.tail:
            self.reporter.log("info", "Last yt-dlp output:\n" + "\n".join(self.tail))


def _one_line(text: Any) -> str:
    """Remote text with no NUL or other control characters."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", str(text or "")).strip()


def _fact(value: Any) -> float | str | None:
    """A number or a short string from yt-dlp's metadata, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return value[:20] if isinstance(value, str) else None


def _clean(msg: str) -> str:
    return re.sub(r"^(ERROR|WARNING):\s*", "", msg).strip()


def trim_info(info: dict[str, Any]) -> dict[str, Any]:
    """The metadata worth keeping: no format lists, headers or huge blobs."""
    kept = {k: info[k] for k in INFO_KEYS if info.get(k) is not None}
    if isinstance(kept.get("tags"), list):
        kept["tags"] = [str(t)[:100] for t in kept["tags"][:20]]
    if description := info.get("description"):
        kept["description"] = str(description)[:2000]
    return kept


def classify(error: Exception, output: Iterable[str] = ()) -> WorkError:
    """yt-dlp's failure in plain words, with a reason and whether a retry may
    help. yt-dlp's own words (its last lines of ``output`` and the error) are
    the detail.

    1. The exception chain decides first: an HTTP status, an unsupported URL,
       a full disk, a timeout, a failed connection.
    2. Otherwise the message does: yt-dlp reports some of these as text only.
    """
    chain: list[BaseException] = []
    exc: BaseException | None = error
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = (
            (exc.exc_info[1] if getattr(exc, "exc_info", None) else None)
            or exc.__cause__
            or exc.__context__
        )
    message = _clean(str(error)) or type(error).__name__
    lines = [line.strip() for line in output]
    if not any(message in line for line in lines):
        lines.append(message)
    detail = "\n".join(lines)

    def found(*types: type[BaseException]) -> bool:
        return any(isinstance(e, types) for e in chain)

    if http := next((e for e in chain if isinstance(e, HTTPError)), None):
        return _http_error(http.status, detail)
    if match := re.search(r"HTTP Error (\d{3})", message):
        return _http_error(int(match.group(1)), detail)
    if found(UnsupportedError) or "Unsupported URL" in message:
        return WorkError(UNSUPPORTED, "unsupported", detail=detail)
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain):
        return WorkError(DISK_FULL, "disk_full", detail=detail)
    if found(TimeoutError) or re.search(r"timed? ?out", message, re.I):
        return WorkError("Timed out: the site stopped answering", "network", True, detail)
    if found(ContentTooShortError) or re.search(r"bytes read, \d+ more expected", message):
        broke = "The connection broke off before the download finished"
        return WorkError(broke, "network", True, detail)
    if found(TransportError, ConnectionError) or re.search(
        r"Connection (reset|refused|aborted)|IncompleteRead", message
    ):
        return WorkError("Could not reach the site (network error)", "network", True, detail)
    if message.startswith("Postprocessing:"):  # yt-dlp's own ffmpeg run (a merge, a fix-up)
        return media.ffmpeg_error(detail)
    if "Requested format is not available" in message:
        return WorkError(
            "The video is not offered in a format this profile accepts",
            "format_unavailable",
            detail=detail,
        )
    return WorkError("The download failed", "download_error", detail=detail)


def _http_error(status: int, detail: str) -> WorkError:
    if status in (404, 410):
        message = f"Video not found (HTTP {status}): the link is wrong or the video was removed"
        return WorkError(message, "not_found", detail=detail)
    if status in (401, 403):
        message = f"Access denied (HTTP {status}): the video may be private or need a login"
        return WorkError(message, "forbidden", detail=detail)
    if status == 429:
        message = "The site is refusing requests for now (HTTP 429: too many requests)"
        return WorkError(message, "rate_limited", True, detail)
    if status >= 500:
        message = f"The site is unavailable right now (HTTP {status})"
        return WorkError(message, "server_error", True, detail)
    message = f"The site answered with an error (HTTP {status})"
    return WorkError(message, "http_error", detail=detail)


def _refuse_outside_fetchers(guard: netguard.Guard) -> None:
    """Downloaders that hand the URL to another program (ffmpeg for live HLS or
    DASH, rtmpdump, curl…) would connect where the guard cannot look: refuse them."""

    def refused(fd: Any, filename: str, info_dict: dict[str, Any]) -> bool:
        tool = type(fd).__name__.removesuffix("FD")
        message = (
            f"Refused to let {tool} fetch {str(info_dict.get('url'))[:200]!r} itself: "
            "MVidarr only downloads through connections whose addresses it checks."
        )
        guard.refuse(message)
        raise netguard.RefusedAddress(message)

    ExternalFD.real_download = refused
    RtmpFD.real_download = refused
    # Only handlers that use Python sockets (which the guard wraps); one built
    # on libcurl (curl_cffi), if installed, would connect unseen.
    for key in list(networking._REQUEST_HANDLERS):
        if key not in ("Urllib", "Requests", "Websockets"):
            del networking._REQUEST_HANDLERS[key]


@contextmanager
def _guarded(params: dict[str, Any]) -> Iterator[None]:
    """Run with every connection checked (see ``videos.netguard``). A refused
    connection fails the job for good, whatever yt-dlp made of it."""
    guard = netguard.install(params.get("network_policy"))
    _refuse_outside_fetchers(guard)
    try:
        yield
    except Exception:
        if guard.refused:
            raise WorkError(guard.refused[0], "refused_address") from None
        raise
    if guard.refused:
        raise WorkError(guard.refused[0], "refused_address")


@contextmanager
def _youtube_dl(logger: _Logger, **options: Any) -> Iterator[yt_dlp.YoutubeDL]:
    """A YoutubeDL that is always closed, whose failures come out classified
    with yt-dlp's last lines of output in the job's log."""
    try:
        # auto_init=False: the default extractors come from the preload.
        with yt_dlp.YoutubeDL(base_options(logger, **options), auto_init=False) as ydl:
            for extractor in _DEFAULT_EXTRACTORS:
                ydl.add_info_extractor(extractor)
            yield ydl
    except DownloadError as e:
        logger.flush_tail()
        raise classify(e, logger.tail) from None


def _is_playlist(info: dict[str, Any]) -> bool:
    return info.get("_type") in ("playlist", "multi_video") or "entries" in info


def _not_a_video(info: dict[str, Any]) -> WorkError:
    title = _one_line(info.get("title"))[:200]
    return WorkError(
        f"This URL is a playlist or feed{f' ({title})' if title else ''}, not one video: "
        "add it as a playlist to get its videos",
        "playlist",
    )


def extract_info(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """A video's metadata, or ``{"_type": "playlist", "title"}`` when the URL
    is a playlist, feed or channel. No entry of a playlist is read
    (``playlist_items`` 0): listing them is ``list_entries``' work."""
    reporter.progress(stage="extracting", force=True)
    options = {"skip_download": True, "extract_flat": "in_playlist", **NO_ENTRIES}
    with _guarded(params), _youtube_dl(_Logger(reporter), **options) as ydl:
        info = ydl.extract_info(params["url"], download=False)
    if info is None:
        raise WorkError(UNSUPPORTED, "unsupported")
    if _is_playlist(info):
        return {"_type": "playlist", "title": _one_line(info.get("title"))[:300]}
    return trim_info(info)


def download(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """Download one video into ``params["work_dir"]`` and confirm it is media;
    the supervisor moves it into the library once the job is known to have
    succeeded."""
    options = download_options(params, reporter)
    reporter.progress(stage="starting", force=True)
    logger = _Logger(reporter)
    with _guarded(params), _youtube_dl(logger, **options) as ydl:
        info = ydl.extract_info(params["url"], download=True)
    if info is None:
        raise WorkError(UNSUPPORTED, "unsupported")
    if _is_playlist(info):
        raise _not_a_video(info)
    downloads = info.get("requested_downloads") or []
    filepath = (
        Path(downloads[0]["filepath"]) if downloads and downloads[0].get("filepath") else None
    )
    if filepath is None or not filepath.is_file():
        if any("max-filesize" in line for line in logger.tail):
            limit = params["max_filesize"] // (1024 * 1024)
            raise WorkError(
                f"The video is larger than the size limit (MVIDARR_MAX_FILESIZE_MB, {limit} MB)",
                "too_large",
                detail="\n".join(logger.tail),
            )
        raise WorkError(
            "Nothing was downloaded: the site offered no file for this video",
            "download_error",
            detail="\n".join([*logger.tail, "yt-dlp finished without producing a file"]),
        )
    filepath = media.process_download(filepath, info, params, reporter)
    reporter.progress(stage="finishing", percent=100.0, force=True)
    ext = filepath.suffix.lstrip(".")
    found = probing.confirm_media(filepath, ext)  # here: a demuxer's crash ends this child only
    return {"filepath": str(filepath), "ext": ext, "info": trim_info(info), "media": found}


def list_entries(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """List a playlist, feed or channel without downloading, emitting the
    entries in batches as they come so a huge playlist never sits in memory twice."""
    reporter.progress(stage="listing", force=True)
    options = {"extract_flat": "in_playlist", "lazy_playlist": True, "noplaylist": False}
    with _guarded(params), _youtube_dl(_Logger(reporter), **options) as ydl:
        info = ydl.extract_info(params["url"], download=False)
        if info is None:
            raise WorkError(UNSUPPORTED, "unsupported")
        entries = info.get("entries")
        if entries is None:  # a single video, not a playlist
            entries = [info]
        count, batch = 0, []
        for entry in entries:
            url = entry and (entry.get("webpage_url") or entry.get("url"))
            if not url:
                continue
            # What the title parser reads (videos.titles.from_info), as plain text.
            batch.append(
                {
                    "url": url,
                    **{f: _one_line(entry.get(f)) for f in ENTRY_FIELDS},
                    **{f: _fact(entry.get(f)) for f in ENTRY_FACTS},
                }
            )
            count += 1
            if len(batch) == 200:
                reporter.emit(batch)
                batch = []
        if batch:
            reporter.emit(batch)
    return {"title": info.get("title") or "", "entries": count}


def _default_extractors() -> tuple[type, ...]:
    """yt-dlp's default extractors, in its order, each matching URLs at once.

    This module is preloaded by the job forkserver, so every child forked from
    it starts with both done: compiling the ~1,800 URL patterns costs a second
    or more of CPU, and ``YoutubeDL()`` picking the default ones (an ordered
    de-duplication that compares every name with every other) tens of
    milliseconds per download. ``_ies`` is the list a ``YoutubeDL`` made."""
    for extractor in gen_extractor_classes():
        extractor.suitable("")
    with yt_dlp.YoutubeDL({"quiet": True}) as ydl:
        # Classes (one entry is an instance): each YoutubeDL makes its own.
        return tuple(ie if isinstance(ie, type) else type(ie) for ie in ydl._ies.values())


def _share_ssl_contexts() -> None:
    """One SSL context per set of options for the whole process, the default
    one made in the forkserver before it forks. yt-dlp makes a context for
    every request handler it starts, loading the CA bundle again each time
    (~20 ms of CPU per download, plain HTTP included); a context is meant to
    be shared by many connections."""
    make = networking.make_ssl_context  # what RequestHandler._make_sslcontext calls
    contexts: dict[tuple, ssl.SSLContext] = {}

    def shared(**options: Any) -> ssl.SSLContext:
        key = tuple(sorted(options.items()))
        if key not in contexts:
            contexts[key] = make(**options)
        return contexts[key]

    networking.make_ssl_context = shared
    shared(verify=True, legacy_support=False, use_certifi=True)


_DEFAULT_EXTRACTORS = _default_extractors()
_share_ssl_contexts()
