"""The media the local media server serves, generated once per cache directory
with ffmpeg (see ``tests.mediaserver``):

- ``clip.mp4`` (~6 s) and ``long.mp4`` (~30 s): H.264/AAC, 320x240, ~500 kbit/s;
- ``heavy.mp4`` (20 s): MPEG-4 Part 2 (not H.264)/AAC, 1280x720 ``testsrc2``, ~4 Mbit/s:
  an H.264 profile transcodes it for real, for several seconds on 2 cores;
- ``pcm.mkv`` (3 s): H.264 with PCM audio in Matroska, which MP4 cannot hold;
- ``ffv1.mkv`` (2 s): FFV1 video in Matroska, which MP4 cannot hold either;
- ``glitchy.mp4``: ``heavy.mp4`` with junk over part of its frames: it plays,
  but ffmpeg reports an error for most frames (some 80 KB of them);
- ``damaged.mp4``: an MP4 header followed by junk (no ``moov`` atom), as a
  download cut short or mangled on the way looks to ffmpeg;
- ``hls/clip/``: an HLS rendition of the clip (``index.m3u8``, 1 s ``.ts`` segments);
- ``thumb.jpg`` (1920x1080) and ``small.png`` (200x112, with transparency): pictures
  a page may name as its thumbnail; ``bomb.png``: a decompression bomb (a few KB
  claiming 30000x30000 pixels);
- ``hls/ladder/``: a multi-variant HLS source, ``master.m3u8`` offering 1080p,
  720p and 360p variants (``v1080.m3u8`` with ``v1080_000.ts``…, and so on), each
  3 s long in 1 s segments, for format-selection tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

# (name, width, height, video bit rate): small, since only the choice matters.
LADDER = (("v1080", 1920, 1080, "900k"), ("v720", 1280, 720, "500k"), ("v360", 640, 360, "200k"))
LADDER_SECONDS = 3
HEAVY_SECONDS = 20


def _ffmpeg(*args: str) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)


def _sources(seconds: int, size: str) -> list[str]:
    """testsrc + a sine tone, a keyframe every second."""
    return [
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", "64k", "-shortest",
    ]  # fmt: skip


def _encode(dst: Path, seconds: int) -> None:
    """H.264/AAC at ~500 kbit/s, 320x240."""
    _ffmpeg(
        *_sources(seconds, "320x240"),
        "-b:v", "450k", "-maxrate", "450k", "-bufsize", "900k",
        "-movflags", "+faststart", str(dst),
    )  # fmt: skip


def _heavy(dst: Path) -> None:
    """Big frames in a codec that is not H.264, so an H.264 profile transcodes it."""
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={HEAVY_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={HEAVY_SECONDS}",
        "-c:v", "mpeg4", "-q:v", "6", "-g", "25", "-c:a", "aac", "-b:a", "64k", "-shortest",
        "-movflags", "+faststart", str(dst),
    )  # fmt: skip


def _pcm(dst: Path) -> None:
    """H.264 video with PCM audio in Matroska: an MP4 of it needs AAC sound."""
    _ffmpeg(*_sources(3, "320x240"), "-c:a", "pcm_s16le", str(dst))


def _ffv1(dst: Path) -> None:
    """FFV1 (lossless) video in Matroska: MP4 has no place for it, so copying
    it into one fails."""
    _ffmpeg(*_sources(2, "160x120"), "-c:v", "ffv1", str(dst))


def _glitchy(dst: Path, heavy: Path) -> None:
    """Junk over the first 2 KB of every 8 KB of the frames (the ``moov`` atom
    at the start is left alone, so the file still opens)."""
    data = bytearray(heavy.read_bytes())
    junk = bytes((i * 37) & 255 for i in range(2048))
    for offset in range(data.index(b"mdat") + 4096, len(data) - 8192, 8192):
        data[offset : offset + 2048] = junk
    dst.write_bytes(data)


def _damaged(dst: Path, clip: Path) -> None:
    """The clip's ``ftyp`` box (so ffmpeg takes it for an MP4) and then 256 KB
    of junk where the rest of the file should be."""
    head = clip.read_bytes()
    ftyp = int.from_bytes(head[:4], "big")
    dst.write_bytes(head[:ftyp] + bytes(range(256)) * 1024)


def _hls(segments: Path, playlist: Path) -> list[str]:
    """Output options for a VOD HLS rendition in 1 s segments."""
    return [
        "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(segments), str(playlist),
    ]  # fmt: skip


def _ladder(out: Path) -> None:
    """Each variant encoded on its own, then a master playlist naming them with
    the RESOLUTION, BANDWIDTH and CODECS that players (and yt-dlp) choose by."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for name, width, height, rate in LADDER:
        _ffmpeg(
            *_sources(LADDER_SECONDS, f"{width}x{height}"),
            "-b:v", rate, "-maxrate", rate, "-bufsize", rate,
            *_hls(out / f"{name}_%03d.ts", out / f"{name}.m3u8"),
        )  # fmt: skip
        bandwidth = int(rate.rstrip("k")) * 1000 + 64_000
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={width}x{height},"
            f'CODECS="avc1.42c028,mp4a.40.2"',
            f"{name}.m3u8",
        ]
    (out / "master.m3u8").write_text("\n".join(lines) + "\n")


def _pictures(tmp: Path) -> dict[str, Path]:
    """The thumbnails a test page may point at."""
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=1920x1080", "-frames:v", "1", str(tmp / "thumb.jpg"))
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=200x112", "-vf", "format=rgba,colorchannelmixer=aa=0.5",
        "-frames:v", "1", str(tmp / "small.png"),
    )  # fmt: skip
    _bomb(tmp / "bomb.png", 30000)
    return {name: tmp / name for name in ("thumb.jpg", "small.png", "bomb.png")}


def _bomb(dst: Path, side: int) -> None:
    """A valid 1-bit grey PNG of side x side pixels, all black: tiny on disk,
    gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
    dst.write_bytes(png + chunk(b"IEND", b""))


def _publish_dir(out: Path, target: Path) -> None:
    target.parent.mkdir(exist_ok=True)
    try:
        os.rename(out, target)
    except OSError:
        if not target.is_dir():
            raise


def ensure_media(cache: Path) -> None:
    """Generate missing media in a temp dir, then publish atomically.

    Files are published with os.link (fails if the name exists) and the HLS
    directories with os.rename, so concurrent starters never see partial files
    and a losing process simply uses the winner's output.
    """
    cache.mkdir(parents=True, exist_ok=True)
    clip_hls, ladder = cache / "hls" / "clip", cache / "hls" / "ladder"
    makers = {
        "clip.mp4": lambda dst: _encode(dst, 6),
        "long.mp4": lambda dst: _encode(dst, 30),
        "heavy.mp4": _heavy,
        "glitchy.mp4": lambda dst: _glitchy(dst, cache / "heavy.mp4"),
        "pcm.mkv": _pcm,
        "ffv1.mkv": _ffv1,
        "damaged.mp4": lambda dst: _damaged(dst, cache / "clip.mp4"),
    }  # in order: the glitchy and damaged files are made from earlier ones
    pictures = ("thumb.jpg", "small.png", "bomb.png")
    files = [cache / name for name in (*makers, *pictures)]
    if all(f.is_file() for f in files) and clip_hls.is_dir() and ladder.is_dir():
        return
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
    try:
        for name, make in makers.items():
            if not (cache / name).is_file():
                make(tmp / name)
                with contextlib.suppress(FileExistsError):  # another process won
                    os.link(tmp / name, cache / name)
        if not all((cache / name).is_file() for name in pictures):
            for name, made in _pictures(tmp).items():
                with contextlib.suppress(FileExistsError):  # another process won
                    os.link(made, cache / name)
        if not clip_hls.is_dir():
            out = tmp / "clip"
            out.mkdir()
            _ffmpeg(
                "-i", str(cache / "clip.mp4"), "-c", "copy",
                *_hls(out / "seg%03d.ts", out / "index.m3u8"),
            )  # fmt: skip
            _publish_dir(out, clip_hls)
        if not ladder.is_dir():
            (tmp / "ladder").mkdir()
            _ladder(tmp / "ladder")
            _publish_dir(tmp / "ladder", ladder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
