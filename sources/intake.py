"""What a check found becomes videos: in the worker, with the database.

``check_urls`` runs before the transaction (it may resolve host names);
``take`` runs inside the one that marks the check done, so a check that was
cancelled meanwhile records nothing and each entry is taken exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sources.models import SeenEntry, Source, entry_key
from videos.models import Artist, Video, name_key
from videos.tasks import start_bulk_download
from videos.titles import from_info
from videos.validation import BadUrl, check_url

BATCH = 500
# yt-dlp hides facts for its own later use in a feed entry's URL; the entry is
# the same without them (and the same as the fast path reads it).
SMUGGLED = "#__youtubedl_smuggle="


@dataclass
class Taken:
    listed: int = 0
    skipped: int = 0
    videos: list[Video] = field(default_factory=list)  # new in the library
    download_job: str = ""

    @property
    def summary(self) -> str:
        text = f"{len(self.videos)} new of {self.listed}"
        return f"{text} ({self.skipped} skipped by the filters)" if self.skipped else text


def check_urls(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry with its URL checked by the URL rule (a refused one is
    skipped, saying why) and its ``key``; the same URL twice is taken once.
    yt-dlp's smuggled data is left out of the URL."""
    hosts: dict[str, bool] = {}
    checked: dict[str, dict[str, Any]] = {}
    for entry in entries:
        try:
            url = check_url(entry["url"].partition(SMUGGLED)[0], hosts)
        except BadUrl as e:
            url, entry["skip"] = entry["url"][:2048], f"refused: {e}"[:200]
        checked.setdefault(entry_key(url), {**entry, "url": url})
    return [{**entry, "key": key} for key, entry in checked.items()]


def take(source: Source, entries: list[dict[str, Any]]) -> Taken:
    """Record the unseen entries as seen and make videos of those that pass
    the filters (in bulk); queue their downloads when the source says so.

    1. Entries already seen are dropped: an entry becomes a video once, ever.
    2. A new entry that passes becomes the owner's video (the source's
       artist, else the one its title names; the source's profile). A URL
       the library already holds is linked to the source, not added again.
    3. Every new entry is remembered, also a skipped one (with the reason),
       so changing the filters later does not bring in the old entries.
    """
    taken = Taken(listed=len(entries))
    seen: set[str] = set()
    for start in range(0, len(entries), BATCH):
        keys = [e["key"] for e in entries[start : start + BATCH]]
        seen |= set(source.seen.filter(entry_key__in=keys).values_list("entry_key", flat=True))
    new = [e for e in entries if e["key"] not in seen]
    taken.skipped = sum(1 for e in new if e["skip"])
    videos = _videos(source, [e for e in new if not e["skip"]])
    SeenEntry.objects.bulk_create(
        [
            SeenEntry(
                source=source,
                entry_key=e["key"],
                url=e["url"],
                title=(e.get("title") or "")[:300],
                video=videos.get(e["url"]),
                skipped=e["skip"],
            )
            for e in new
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    taken.videos = [v for v in videos.values() if v.is_new]
    wanted = [v for v in taken.videos if v.status == Video.Status.WANTED]
    if source.auto_download and wanted:
        label = f"{source.display_name}: {len(wanted)} new"
        taken.download_job = str(start_bulk_download(source.owner, wanted, label).pk)
    return taken


def _videos(source: Source, entries: list[dict[str, Any]]) -> dict[str, Video]:
    """The owner's video for each entry's URL, made if new (``is_new``)."""
    if not entries:
        return {}
    parsed = {e["url"]: from_info(e) for e in entries}
    artists: dict[str, Artist] = {}
    if source.artist_id is None:
        artists = Artist.objects.for_names(source.owner_id, (p.artist for p in parsed.values()))
    urls = list(parsed)
    known = set()
    for start in range(0, len(urls), BATCH):
        chunk = urls[start : start + BATCH]
        owned = Video.objects.filter(owner_id=source.owner_id, url__in=chunk)
        known |= set(owned.values_list("url", flat=True))
    Video.objects.bulk_create(
        [
            Video(
                owner_id=source.owner_id,
                url=url,
                title=p.title,
                artist=source.artist or artists.get(name_key(p.artist)),
                profile_id=source.profile_id,
            )
            for url, p in parsed.items()
            if url not in known
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    found: dict[str, Video] = {}
    for start in range(0, len(urls), BATCH):
        chunk = urls[start : start + BATCH]
        for video in Video.objects.filter(owner_id=source.owner_id, url__in=chunk):
            video.is_new = video.url not in known
            found[video.url] = video
    return found
