"""A source's filters: which of its entries become videos. Pure (no Django,
no database), so that they run in the check's child process: a regex that
backtracks for ever then costs that job its time limit, never a worker.

An entry is a dict from the listing (``sources.listing``): ``title``, and,
when the feed or site tells, ``duration`` (seconds) and ``published``
(``YYYY-MM-DD``). What is not known passes its filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

MAX_PATTERN = 200
# Titles are matched on their first characters only (a title is rarely longer).
MATCHED_TITLE = 300


class BadFilter(ValueError):
    pass


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The regex a filter holds (matched anywhere in the title, ignoring
    case), or ``BadFilter`` saying what is wrong with it; None for none."""
    if not pattern:
        return None
    if len(pattern) > MAX_PATTERN:
        raise BadFilter(f"A title filter is at most {MAX_PATTERN} characters.")
    if any(ord(c) < 32 for c in pattern):
        raise BadFilter("A title filter cannot hold control characters.")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as e:
        raise BadFilter(f"Not a valid regular expression: {e}.") from None


@dataclass(frozen=True)
class Filters:
    title_include: str = ""
    title_exclude: str = ""
    max_duration: int | None = None
    published_after: str = ""  # ISO date, "" for none

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Filters:
        return cls(**{k: params.get(k) or cls.__dataclass_fields__[k].default for k in FIELDS})

    def as_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS}

    def skip_reason(self, entry: dict[str, Any]) -> str:
        """Why the entry is skipped, or "" when it passes every filter."""
        title = (entry.get("title") or "")[:MATCHED_TITLE]
        include, exclude = compile_pattern(self.title_include), compile_pattern(self.title_exclude)
        if include and not include.search(title):
            return "title does not match the include filter"
        if exclude and exclude.search(title):
            return "title matches the exclude filter"
        duration = entry.get("duration")
        if (
            self.max_duration
            and isinstance(duration, (int, float))
            and duration > self.max_duration
        ):
            return f"longer than {self.max_duration} s"
        published = entry.get("published") or ""
        if self.published_after and published and published < self.published_after:
            return f"published before {self.published_after}"
        return ""


FIELDS = tuple(Filters.__dataclass_fields__)


def iso_date(value: Any) -> str:
    """``YYYY-MM-DD`` from yt-dlp's ``upload_date`` (``YYYYMMDD``), a date, or ""."""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return ""
