"""What ``videos.ytdlp`` tells yt-dlp: the options every run shares, the
format selection of a profile, and a download's options with the hooks that
turn yt-dlp's progress into the job's. Plain dicts: yt-dlp itself is
imported only by ``videos.ytdlp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.child import Reporter

# yt-dlp grows its read buffer with the speed and then calls the progress hook
# only about once a second; a fixed small buffer gives smooth progress.
BUFFER_SIZE = 16 * 1024
# A URL that turns out to be a playlist is reported as such, without reading
# (or downloading) a single entry of it: playlist item 0 does not exist.
NO_ENTRIES = {"playlist_items": "0"}


def base_options(logger: Any, **extra: Any) -> dict[str, Any]:
    """Every run's options; ``logger`` takes yt-dlp's output (``ytdlp._Logger``)."""
    return {
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        # Not even formatted: yt-dlp builds its console progress line on every
        # progress call, printed or not (a good part of a fast download's CPU).
        "progress_delta": 3600,
        "no_color": True,
        "noplaylist": True,
        "cachedir": False,
        "socket_timeout": 20,
        "retries": 2,
        "fragment_retries": 3,
        "extractor_retries": 0,  # failed attempts are retried by the job, with backoff
        # yt-dlp fetches everything itself, through Python sockets the network
        # guard sees; ffmpeg or rtmpdump fetching a stream would not be seen.
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "logger": logger,
        **extra,
    }


def format_options(profile: dict[str, Any] | None) -> dict[str, Any]:
    """yt-dlp's format selection for a profile (see ``Profile.settings``).

    1. ``max_height``: the best format no taller than that (a filter), and
       ``res:H`` sorting, so that among an HLS or DASH source's variants the
       720p one is fetched, not the 1080p one. A source with nothing small
       enough falls back to its closest (``res:H`` sorts the smallest larger
       one first); scaling it down is left to processing.
    2. ``video_codec`` h264: H.264 formats sort first (transcoding is processing's).
    3. ``container``: mp4/webm formats sort first for those containers,
       merges use the container, and mp4/mkv files are remuxed into it (a
       stream copy). WebM holds only VP8/VP9/AV1 with Opus/Vorbis, so a source
       without those is merged as mkv rather than failing, and not remuxed.
    """
    profile = profile or {}
    if profile.get("audio_only"):
        return {"format": "bestaudio/best"}
    height = profile.get("max_height")
    container = profile.get("container") or "any"
    sort = []
    if height:
        sort.append(f"res:{int(height)}")
        fit = f"[height<=?{int(height)}]"
        selector = f"bv*{fit}+ba/b{fit}/bv*+ba/b"
    else:
        selector = "bv*+ba/b"
    if profile.get("video_codec") == "h264":
        sort.append("vcodec:h264")
    if container == "mp4":
        sort.append("ext:mp4:m4a")
    elif container == "webm":
        sort.append("ext:webm:webm")
    options: dict[str, Any] = {"format": selector}
    if sort:
        options["format_sort"] = sort
    if container in ("mp4", "mkv"):  # merged straight into it; the rest is processing's
        options["merge_output_format"] = container
    elif container == "webm":
        options["merge_output_format"] = "webm/mkv"
    return options


def download_options(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """A download's options: the profile's formats, into ``params["work_dir"]``,
    resuming, with its progress reported to the job."""
    work_dir = Path(params["work_dir"])

    def on_progress(d: dict[str, Any]) -> None:
        if d["status"] != "downloading":
            return
        done = d.get("downloaded_bytes")
        total = d.get("total_bytes") or d.get("total_bytes_estimate")
        if total and done is not None:
            percent = min(100.0, done * 100.0 / total)
        elif d.get("fragment_count"):
            percent = min(100.0, (d.get("fragment_index") or 0) * 100.0 / d["fragment_count"])
        else:
            percent = None
        reporter.progress(
            stage="downloading",
            percent=round(percent, 2) if percent is not None else None,
            downloaded_bytes=done,
            total_bytes=int(total) if total else None,
            speed=round(d["speed"], 1) if d.get("speed") else None,
            eta=int(d["eta"]) if d.get("eta") is not None else None,
        )

    def on_postprocess(d: dict[str, Any]) -> None:
        if d["status"] == "started":  # yt-dlp's own steps (merging…) tell no percent
            reporter.progress(stage="processing", percent=None, speed=None, eta=None, force=True)
            reporter.log("info", f"Post-processing: {d.get('postprocessor', '?')}")

    return {
        **format_options(params.get("profile")),
        "paths": {"home": str(work_dir), "temp": str(work_dir)},
        "outtmpl": {"default": "%(id).60B.%(ext)s"},
        "restrictfilenames": True,
        "buffersize": BUFFER_SIZE,
        "noresizebuffer": True,
        "continuedl": True,
        "progress_hooks": [on_progress],
        "postprocessor_hooks": [on_postprocess],
        "ffmpeg_location": params.get("ffmpeg") or None,
        "max_filesize": params.get("max_filesize"),
        **NO_ENTRIES,
    }
