"""ffmpeg/ffprobe and the library's side files (NFO)."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET


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


def probe_duration(path: Path) -> float | None:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    try:
        out = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
        return float(json.loads(out)["format"]["duration"])
    except (subprocess.SubprocessError, KeyError, ValueError):
        return None


def write_nfo(path: Path, *, title: str, artist: str, duration: float | None, info: dict) -> None:
    """A Kodi-style ``<musicvideo>`` NFO beside the video (Jellyfin reads it too)."""
    root = ET.Element("musicvideo")
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "artist").text = artist
    if album := info.get("album"):
        ET.SubElement(root, "album").text = album
    if year := (info.get("release_year") or str(info.get("upload_date") or "")[:4]):
        ET.SubElement(root, "year").text = str(year)
    if duration:
        ET.SubElement(root, "runtime").text = str(round(duration / 60))
    if plot := info.get("description"):
        ET.SubElement(root, "plot").text = plot
    if thumb := info.get("thumbnail"):
        ET.SubElement(root, "thumb").text = thumb
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
