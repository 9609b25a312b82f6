"""What is in a media file, read in-process with PyAV (FFmpeg's own
demuxers), and whether it may enter the library. Call these in a job's child
only: a demuxer that crashes on hostile bytes then ends that child alone."""

from __future__ import annotations

from pathlib import Path

from jobs.child import WorkError

# What may enter the library: these extensions, and only when the probe finds one
# of these container formats with an audio or video stream in the file. A file
# of attacker-chosen bytes named .svg, .swf or .json is neither.
MEDIA_EXTENSIONS = frozenset({
    "mp4", "m4v", "mov", "mkv", "webm", "ts", "avi", "flv",
    "ogv", "ogg", "mp3", "m4a", "aac", "opus", "flac", "wav",
})  # fmt: skip
# What an import looks for: the media extensions that hold pictures.
VIDEO_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "mkv", "webm", "ts", "avi", "flv", "ogv"})
MEDIA_FORMATS = frozenset({
    "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm",
    "mpegts", "avi", "flv", "ogg", "mp3", "aac", "flac", "wav",
})  # fmt: skip
# What a probe may open: the file itself, never what it names (a playlist's
# segments), with the demuxers of MEDIA_FORMATS only; and for how long.
PROBE_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ",".join(sorted(MEDIA_FORMATS))}
PROBE_TIMEOUT = 60
# What ``probe`` loads: the kinds whose children probe have their forkserver preload it.
PROBE_PRELOAD = ("av",)


def probe(path: Path) -> dict:
    """What FFmpeg's demuxers find in a file, shaped as ``ffprobe -of json``
    shows it: the container's format and duration and each stream's type,
    codec and picture size ({} when they find no media).

    PyAV opens the file with the libraries ffprobe is made of, in this
    process: a probe costs a few milliseconds where starting ffprobe cost
    ~70 (it loads 200 shared libraries first). Call it only in a job's child,
    where a demuxer that crashes on hostile bytes fails that job alone."""
    # PyAV maps FFmpeg's libraries (~25 MB, ~70 ms to load): only the job
    # children that probe need it, and the forkserver preloads it for them.
    import av

    try:
        with av.open(
            str(path), container_options=PROBE_OPTIONS, timeout=PROBE_TIMEOUT
        ) as container:
            streams = [_stream(stream) for stream in container.streams]
            duration = container.duration
            return {
                "format": {
                    "format_name": container.format.name,
                    "duration": None if duration is None else duration / av.time_base,
                },
                "streams": streams,
            }
    except (av.FFmpegError, OSError, ValueError):
        return {}


def _stream(stream) -> dict:
    codec = stream.codec_context  # None for a codec PyAV's FFmpeg cannot decode
    found = {"codec_type": stream.type}
    if codec is not None:
        found["codec_name"] = codec.codec.canonical_name
        if stream.type == "video":
            found.update(width=codec.width, height=codec.height)
    return found


def confirm_media(path: Path, ext: str) -> dict:
    """Raise a permanent ``WorkError`` unless ``path`` is a real audio/video
    file; else return its technical metadata (``technical``). One probe
    answers both."""
    ext = ext.lower()
    if ext not in MEDIA_EXTENSIONS:
        raise WorkError(
            f"Refused a download saved as .{ext[:10]}: not a video or audio type", "not_media"
        )
    found = probe(path)
    formats = set(str(found.get("format", {}).get("format_name", "")).split(","))
    streams = {s.get("codec_type") for s in found.get("streams", [])}
    if not formats & MEDIA_FORMATS or not streams & {"video", "audio"}:
        raise WorkError(
            "Refused the download: it is not a video or audio file",
            "not_media",
            detail=f"found format {','.join(sorted(formats - {''})) or 'unknown'}"
            f" with streams {', '.join(sorted(str(s) for s in streams)) or 'none'}",
        )
    return technical(found, ext)


def technical(found: dict, ext: str) -> dict:
    """Duration, size of the picture, codecs and container, from ``probe()``."""
    video = next((s for s in found.get("streams", []) if s.get("codec_type") == "video"), {})
    audio = next((s for s in found.get("streams", []) if s.get("codec_type") == "audio"), {})
    formats = str(found.get("format", {}).get("format_name", "")).split(",")
    if "matroska" in formats or "webm" in formats:
        container = "webm" if ext == "webm" else "mkv"
    elif "mp4" in formats or "mov" in formats:
        container = "mp4" if ext in ("mp4", "m4a", "m4v") else "mov"
    else:
        container = formats[0]
    try:
        duration = float(found["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        duration = None
    return {
        "duration": duration,
        "width": video.get("width"),
        "height": video.get("height"),
        "video_codec": video.get("codec_name", ""),
        "audio_codec": audio.get("codec_name", ""),
        "container": container[:10],
    }
