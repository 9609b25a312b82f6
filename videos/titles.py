"""Provisional: replaced by the full parser."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parsed:
    artist: str
    title: str


def parse_title(text: str, channel: str = "") -> Parsed:
    artist, sep, title = text.partition(" - ")
    return Parsed(artist.strip(), title.strip()) if sep else Parsed("", text.strip())
