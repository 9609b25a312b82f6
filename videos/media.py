"""ffmpeg: processing downloads, frames for thumbnails; and placing files in
the library (what is in a file: ``videos.probing``)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from django.conf import settings

from jobs.child import Reporter, WorkError
from videos.nfo import xml_text
from videos.probing import probe, technical

# What ``grab_frame`` hands over: an uncompressed picture, quick to write and read.
FRAME_FORMATS = ("BMP",)
# The last lines of ffmpeg's error output that a failure keeps.
ERROR_LINES = 30
# Seconds between ffmpeg's progress reports (its default is 0.5): as often as
# the pages get progress at most (4 a second), so processing moves as smoothly.
PROGRESS_PERIOD = 0.25
# Sound codecs an MP4 holds as they are (yt-dlp's "mp4a.40.2" is AAC);
# anything else is made AAC at this rate when a file becomes an MP4.
MP4_AUDIO = ("aac", "mp4a", "mp3", "alac", "ac-3", "ac3", "eac3", "ec-3", "opus")
AAC_BITRATE = "192k"


@cache
def ffmpeg_path() -> str | None:
    """Debian's ffmpeg, or the one the imageio-ffmpeg wheel ships."""
    if path := shutil.which("ffmpeg"):
        return path
    try:  # an optional wheel, for machines without a system ffmpeg
        import imageio_ffmpeg
    except ImportError:
        return None
    return imageio_ffmpeg.get_ffmpeg_exe()


def thumb_beside(path: Path) -> Path:
    """The thumbnail media servers look for beside a video (``<name>-thumb.jpg``)."""
    return path.with_name(f"{path.stem}-thumb.jpg")


def share(path: Path) -> None:
    """Give a file in the library the library's mode (``MVIDARR_LIBRARY_FILE_MODE``)."""
    if settings.LIBRARY_FILE_MODE != 0o600:
        os.chmod(path, settings.LIBRARY_FILE_MODE)


def library_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) in the library, with the library's mode."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    if settings.LIBRARY_FILE_MODE != 0o600:
        for made in missing:
            os.chmod(made, settings.LIBRARY_DIR_MODE)


def place_exclusively(source: Path, candidates: Iterable[Path], keep_source: bool = False) -> Path:
    """Move ``source`` (or, with ``keep_source``, copy it: a hard link where
    it can) to the first candidate whose name, and NFO name, are free on disk,
    never replacing a file: the NFO name is claimed with ``O_EXCL`` and the
    video is linked (``link`` fails if the name exists), so two jobs racing
    for one name cannot both get it."""
    for target in candidates:
        library_folder(target.parent)
        nfo = target.with_suffix(".nfo")
        try:
            os.close(os.open(nfo, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        share(nfo)
        try:
            _link_or_copy(source, target)
        except FileExistsError:
            nfo.unlink()
            continue
        except OSError as e:  # nothing half-written is left behind
            nfo.unlink()
            if e.errno == errno.ENOSPC:
                raise WorkError(
                    "The library disk is full: no space left for this video",
                    "disk_full",
                    detail=str(e),
                ) from None
            raise
        if not keep_source:
            source.unlink()
        share(target)
        return target
    raise WorkError("No free file name in the library for this video", "name_taken")


def processing_plan(info: dict, ext: str, profile: dict) -> dict | None:
    """What ffmpeg must do to a download for its profile, or None: scale a
    picture taller than ``max_height`` down, transcode to H.264 when asked
    (or when scaling), and remux into the profile's container. The sound is
    copied, unless the file becomes an MP4 and its codec has no place there
    (PCM, Vorbis, FLAC): then it becomes AAC. ``info`` is yt-dlp's (height,
    vcodec, acodec, duration of what was downloaded)."""
    if profile.get("audio_only"):
        return None
    limit, height = profile.get("max_height"), info.get("height")
    scale_to = limit if limit and height and height > limit else None
    vcodec = str(info.get("vcodec") or "")
    is_h264 = vcodec.startswith(("avc", "h264"))
    transcode = bool(scale_to) or (profile.get("video_codec") == "h264" and not is_h264)
    container = profile.get("container") or "any"
    remux_to = container if container in ("mp4", "mkv") and ext != container else None
    if not (scale_to or transcode or remux_to):
        return None
    out = remux_to or ("mp4" if transcode and ext not in ("mp4", "mkv") else ext)
    acodec = str(info.get("acodec") or "none")
    return {
        "scale_to": scale_to,
        "transcode": transcode,
        "ext": out,
        "audio": "aac"
        if out == "mp4" and acodec != "none" and not acodec.startswith(MP4_AUDIO)
        else "copy",
        "duration": info.get("duration"),
    }


def process(
    source: Path,
    plan: dict,
    tags: dict[str, str],
    on_progress: Callable[[float | None], None],
    ffmpeg: str | None = None,
    preset: str = "veryfast",
) -> Path:
    """Run ``plan`` with ffmpeg (in the job's child, so cancel kills it with
    the child's process group): the new file beside ``source``, which is
    removed. ``on_progress`` gets the percent from ffmpeg's own ``-progress``
    output, several times a second. Failures come out classified."""
    target = source.with_name(f"{source.stem}.processed.{plan['ext']}")
    cmd = [ffmpeg or "ffmpeg", "-hide_banner", "-nostdin", "-y", "-i", str(source)]
    cmd += ["-map", "0:v?", "-map", "0:a?"]
    if plan["scale_to"]:
        cmd += ["-vf", f"scale=-2:{int(plan['scale_to'])}"]
    if plan["transcode"]:
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", "23", "-pix_fmt", "yuv420p"]
    else:
        cmd += ["-c:v", "copy"]
    if plan.get("audio") == "aac":
        cmd += ["-c:a", "aac", "-b:a", AAC_BITRATE]
    else:
        cmd += ["-c:a", "copy"]
    for key, value in tags.items():
        if value:
            cmd += ["-metadata", f"{key}={xml_text(value)[:300]}"]
    cmd += ["-progress", "pipe:1", "-stats_period", str(PROGRESS_PERIOD), "-nostats"]
    cmd += ["-loglevel", "error", str(target)]
    duration, shown = plan.get("duration") or 0, 0.0
    errors: deque[str] = deque(maxlen=ERROR_LINES)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        # stderr is read beside stdout: a damaged stream can make ffmpeg
        # complain for more than a pipe holds, and it would stop, waiting.
        reader = threading.Thread(target=errors.extend, args=(proc.stderr,), daemon=True)
        reader.start()
        for line in proc.stdout:
            if line.startswith("out_time_us=") and duration:
                with contextlib.suppress(ValueError):
                    done = int(line.split("=", 1)[1]) / 1e6
                    percent = round(min(100.0, done * 100 / duration), 2)
                    if percent > shown:  # ffmpeg's clock may step back at the start
                        shown = percent
                        on_progress(percent)
        reader.join()
    if proc.returncode:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise ffmpeg_error("".join(errors))
    source.unlink()
    return target


def process_download(filepath: Path, info: dict, params: dict, reporter: Reporter) -> Path:
    """The processing stage of a download, in its child: what the profile
    asks of the file (scale, H.264, container), with the title, artist and
    year written into it."""
    profile, ext = params.get("profile") or {}, filepath.suffix.lstrip(".")
    asks = profile.get("max_height") or profile.get("video_codec") == "h264"
    known = info.get("height") and info.get("vcodec") not in (None, "none")
    plan = processing_plan(info, ext, profile)
    unheard = plan and plan["ext"] == "mp4" and not info.get("acodec")
    if (asks and not (known and info.get("duration"))) or unheard:
        # A direct file tells yt-dlp little: probe it (once, only when it matters).
        found = technical(probe(filepath), ext)
        info = {**info, "height": found["height"], "vcodec": found["video_codec"]}
        info["acodec"] = found["audio_codec"] or "none"
        info["duration"] = info.get("duration") or found["duration"]
        plan = processing_plan(info, ext, profile)
    if plan is None:
        return filepath
    check_free_space(filepath.parent, need=params.get("min_free_mb", 0))
    given = params.get("tags") or {}
    tags = {
        "title": given.get("title") or info.get("track") or info.get("title") or "",
        "artist": given.get("artist") or info.get("artist") or info.get("uploader") or "",
        "date": str(info.get("release_year") or str(info.get("upload_date") or "")[:4]),
    }
    steps = [f"scale to {plan['scale_to']}p" if plan["scale_to"] else ""]
    steps += ["H.264" if plan["transcode"] else "", "AAC sound" if plan["audio"] == "aac" else ""]
    steps += [f"into .{plan['ext']}"]
    reporter.log("info", "Processing: " + ", ".join(step for step in steps if step))
    reporter.progress(stage="processing", percent=0.0, force=True)

    def on_progress(percent: float | None) -> None:
        reporter.progress(stage="processing", percent=percent)

    preset = params.get("ffmpeg_preset") or "veryfast"
    try:
        return process(filepath, plan, tags, on_progress, params.get("ffmpeg"), preset)
    except WorkError as e:
        reporter.log("info", f"Last ffmpeg output:\n{e.detail}")
        raise


# ffmpeg's words for a stream its output format has no place for, e.g.
# "[mp4 @ 0x55…] Could not find tag for codec pcm_s16le in stream #1, codec not
# currently supported in container".
NO_TAG = re.compile(r"\[(\w+) @ [^]]*\] Could not find tag for codec (\w+)")


def grab_frame(path: Path, at: float, max_width: int, params: dict) -> bytes:
    """One frame of a local video at ``at`` seconds (the first, if there is
    none there), at most ``max_width`` wide with square pixels, as a BMP.
    ffmpeg may read only the file itself: no protocol reaches the network."""
    scale = f"scale=w='min({int(max_width)},iw*sar)':h='round(ow/dar)':flags=lanczos,setsar=1"
    for seek in dict.fromkeys((max(0.0, at), 0.0)):
        cmd = [params.get("ffmpeg") or "ffmpeg", "-hide_banner", "-nostdin", "-v", "error"]
        cmd += ["-protocol_whitelist", "file", "-ss", f"{seek:.3f}", "-i", str(path)]
        cmd += ["-map", "0:v:0", "-frames:v", "1", "-vf", scale]
        cmd += ["-f", "image2pipe", "-c:v", "bmp", "pipe:1"]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise WorkError("ffmpeg took too long to take a frame", "timeout") from None
        if done.returncode:
            tail = "\n".join(done.stderr.decode(errors="replace").strip().splitlines()[-5:])
            raise WorkError(f"ffmpeg could not take a frame from the video\n{tail}", "no_frame")
        if done.stdout:
            return done.stdout
    raise WorkError("The video has no frame to make a thumbnail of", "no_frame")


def ffmpeg_error(output: str) -> WorkError:
    """ffmpeg's failure in plain words; its last lines (stderr) are the detail.
    A full disk is checked first: it also makes "Error writing trailer" lines."""
    detail = "\n".join(output.strip().splitlines()[-ERROR_LINES:])
    lowered = output.lower()
    if "no space left on device" in lowered:
        message = "The disk filled up while processing the video"
        return WorkError(message, "disk_full", detail=detail)
    if "invalid data found when processing input" in lowered or "moov atom not found" in lowered:
        return WorkError(
            "The downloaded file is damaged or not a video", "corrupt_input", detail=detail
        )
    if match := NO_TAG.search(output):
        muxer, codec = match.groups()
        message = f"Unsupported codec: the {muxer.upper()} format cannot hold this video's {codec}"
        return WorkError(message, "codec", detail=detail)
    if "unknown encoder" in lowered or "not supported" in lowered:
        message = "Unsupported codec: this video cannot be converted as its profile asks"
        return WorkError(message, "codec", detail=detail)
    return WorkError("Processing failed", "processing_failed", detail=detail)


def check_free_space(*folders: Path, need: int) -> None:
    """Raise a permanent ``disk_full`` ``WorkError`` when a folder's disk has
    less than ``need`` MB free (``MVIDARR_MIN_FREE_MB``)."""
    for folder in folders:
        free = shutil.disk_usage(folder).free // (1024 * 1024)
        if free < need:
            raise WorkError(
                f"Not enough free disk space: only {free} MB free on the disk of {folder}"
                f" (MVIDARR_MIN_FREE_MB is {need})",
                "disk_full",
            )


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as e:
        if isinstance(e, FileExistsError):
            raise
        # Another filesystem: copy beside the target, then link that in.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.link(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
