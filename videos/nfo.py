"""The NFO beside each video: Kodi's ``<musicvideo>`` (Jellyfin and Plex's
agents read it too), valid XML whatever the remote metadata holds."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

from videos.validation import BadUrl, check_url

# Not allowed in XML 1.0 at all (and C1 controls, which are no better in an NFO).
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    return XML_UNSAFE.sub("", str(value))


def public_thumb(url: object) -> str | None:
    """The thumbnail URL if it is http(s) on an address content may point to."""
    try:
        return check_url(url) if isinstance(url, str) else None
    except BadUrl:
        return None


def write_nfo(path: Path, *, title: str, artist: str, media: dict, info: dict) -> None:
    """A Kodi-style ``<musicvideo>`` NFO beside the video (Jellyfin reads it too),
    valid XML whatever the remote metadata holds. ``<runtime>`` is in minutes,
    as Kodi has it (at least 1 for a clip under a minute); the exact length and
    the streams go in ``<fileinfo><streamdetails>``."""
    root = ET.Element("musicvideo")

    def add(parent: ET.Element, tag: str, value: object) -> None:
        ET.SubElement(parent, tag).text = xml_text(value)

    add(root, "title", title)
    add(root, "artist", artist)
    if album := info.get("album"):
        add(root, "album", album)
    if year := (info.get("release_year") or str(info.get("upload_date") or "")[:4]):
        add(root, "year", year)
    duration = media.get("duration")
    if duration:
        add(root, "runtime", max(1, round(duration / 60)))
    for tag in ("genre", "director"):
        if value := info.get(tag):
            add(root, tag, value)
    if plot := info.get("description"):
        add(root, "plot", plot)
    if thumb := public_thumb(info.get("thumbnail")):
        add(root, "thumb", thumb)
    details = ET.SubElement(ET.SubElement(root, "fileinfo"), "streamdetails")
    if media.get("video_codec"):
        video = ET.SubElement(details, "video")
        add(video, "codec", media["video_codec"])
        for tag in ("width", "height"):
            if media.get(tag):
                add(video, tag, media[tag])
        if duration:
            add(video, "durationinseconds", round(duration))
    if media.get("audio_codec"):
        add(ET.SubElement(details, "audio"), "codec", media["audio_codec"])
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
