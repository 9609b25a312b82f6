"""A source's check, in the job's child process (see ``jobs.child``): list
the entries and apply the filters. No database here; the worker turns new
entries into videos (``sources.intake``).

1. Unless the last check found a web page rather than a feed, the URL is
   fetched once, conditionally (``sources.feeds``). A 304 ends the check at
   once, and so does a feed: its entries are what it lists, no yt-dlp run.
2. Anything else (a playlist, a channel) is listed by yt-dlp's flat
   extraction (``videos.ytdlp.list_entries``, as for ``download_playlist``).
3. Every entry gets ``skip``: why the filters leave it out, or "". They run
   here so that a pathological regex can only use up this job's time limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobs.child import Reporter
from sources import feeds
from sources.filters import Filters, iso_date
from videos import netguard, ytdlp


class _Collector:
    """A reporter for ``list_entries`` that keeps the entries instead of
    sending them one batch at a time: the worker takes them all in one
    transaction."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.entries: list[dict[str, Any]] = []

    def progress(self, force: bool = False, **state: Any) -> None:
        self.reporter.progress(force=force, **state)

    def log(self, level: str, text: str) -> None:
        self.reporter.log(level, text)

    def emit(self, batch: list[dict[str, Any]]) -> None:
        self.entries += batch
        self.reporter.progress(stage="listing", detail=f"{len(self.entries)} entries")


def check(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    guard = netguard.install(params.get("network_policy"))
    filters = Filters.from_params(params["filters"])
    if params.get("is_feed") is not False:
        reporter.progress(stage="fetching", force=True)
        etag, modified = params.get("etag", ""), params.get("last_modified", "")
        fetched = feeds.fetch(params["url"], etag, modified, guard)
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
        if fetched.status == 304:
            return {"is_feed": True, "unchanged": True, **validators}
        if fetched.body is not None:
            try:
                title, entries = feeds.parse(fetched.body, params["url"])
            except feeds.NotAFeed:
                pass
            else:
                found = _filtered(entries, filters)
                return {"is_feed": True, "title": title, "entries": found, **validators}
    collector = _Collector(reporter)
    listed = ytdlp.list_entries(params, collector)
    for entry in collector.entries:
        entry["published"] = _published(entry)
    entries = _filtered(collector.entries, filters)
    return {"is_feed": False, "title": listed["title"], "entries": entries}


def _published(entry: dict[str, Any]) -> str:
    """yt-dlp's date of an entry: ``timestamp``, else ``upload_date``."""
    stamp = entry.pop("timestamp", None)
    day = entry.pop("upload_date", None)
    if isinstance(stamp, (int, float)) and 0 < stamp < 10**11:
        return datetime.fromtimestamp(stamp, UTC).date().isoformat()
    return iso_date(day)


def _filtered(entries: list[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    return [{**entry, "skip": filters.skip_reason(entry)} for entry in entries]
