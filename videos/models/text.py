"""Text rules shared by the library's models: clean one-line text, safe file names."""

from __future__ import annotations

import re
import unicodedata

MAX_ID = 2**63 - 1  # the largest id a database column holds
UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_text(text: str) -> str:
    """A one-line text with no NUL or other control characters (PostgreSQL
    refuses NUL outright; the rest break NFOs, logs and pages)."""
    return CONTROL.sub(" ", text or "").strip()


def safe_name(text: str, fallback: str, limit: int = 80) -> str:
    """A single path component that is safe on every filesystem the library
    may live on (and for Kodi, Jellyfin, Plex scanners)."""
    text = unicodedata.normalize("NFC", text or "")
    text = UNSAFE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip().strip(".").strip()
    return text[:limit].rstrip(" .") or fallback


def name_key(name: str) -> str:
    """What makes two artist names the same: case, width and spacing aside
    ("ABBA", "abba", "ＡＢＢＡ", " Abba ")."""
    return " ".join(unicodedata.normalize("NFKC", clean_text(name)).casefold().split())


def sort_name(name: str) -> str:
    """The name an index sorts by: a leading article goes last, as record
    shops file them ("The Beatles" -> "Beatles, The")."""
    name = " ".join(clean_text(name).split())
    article, _, rest = name.partition(" ")
    if rest and article.casefold() in ("the", "a", "an"):
        return f"{rest}, {article}"
    return name
