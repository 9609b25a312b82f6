"""Finding an artist's videos: the ``check_artist`` kind and the daily
``check_artists`` task.

A check asks IMVDb (``integrations.imvdb``, in the job's child process) for
the artist's videos, and each one with a YouTube or Vimeo source becomes a
``wanted`` video of the artist's owner, exactly once: a video whose link is
already in the library is left alone, and an IMVDb video handled once
(``Artist.imvdb_seen``) is not asked about again, so deleting a found video
does not bring it back. With the artist's ``auto_download`` on, the new
videos are downloaded. The fetching happens in the child, outside any
transaction; the writes happen in the one short transaction that marks the
job done.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from integrations.options import imvdb_url
from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import Job
from jobs.scheduler import periodic
from mvidarr import config
from videos.models import Artist, Video
from videos.validation import BadUrl, check_url

CHECK_KIND = "check_artist"
# A monitored artist is checked once a day; the task runs every quarter of
# an hour and takes its share of the artists due, so checks spread over the day.
CHECK_EVERY = timedelta(days=1)
SCHEDULE_EVERY = 15 * 60
RUNS_PER_DAY = CHECK_EVERY.total_seconds() / SCHEDULE_EVERY
NO_KEY = (
    "Checking for new videos needs an IMVDb API key, which staff set on the Settings page, "
    "or a followed source of this artist."
)


class NothingToCheck(Exception):
    """The artist cannot be checked anywhere (no IMVDb key, no source)."""


class ArtistChecks(Protocol):
    """Somewhere else an artist's new videos may be found, which "Check now"
    checks too: other apps add theirs to ``OTHER_CHECKS`` (the sources app,
    the artist's followed sources); ``videos`` knows nothing of them."""

    def applies(self, artist: Artist) -> bool: ...

    def start(self, artist: Artist) -> list[Job]: ...


OTHER_CHECKS: list[ArtistChecks] = []


def can_check(artist: Artist | None = None) -> bool:
    """Whether IMVDb can be asked; with ``artist``, or any other check applies."""
    if config.get("IMVDB_API_KEY"):
        return True
    return artist is not None and any(checks.applies(artist) for checks in OTHER_CHECKS)


def imvdb_slugs(artist: Artist) -> list[str]:
    """How IMVDb writes the artist's name in a slug ("Robin Thicke" ->
    "robin-thicke", "T.I." -> "t.i." or "ti")."""
    return sorted({artist.key.replace(" ", "-"), slugify(artist.name)} - {""})


def start_check(artist: Artist) -> Job:
    """The artist's ``check_artist`` job (the active one if there is one),
    owned by the artist's owner; ``NothingToCheck`` without an IMVDb key."""
    if not can_check():
        raise NothingToCheck(NO_KEY)
    Artist.objects.filter(pk=artist.pk).update(checked_at=timezone.now())
    job, _ = Job.submit(
        CHECK_KIND,
        artist.owner,
        subject=artist.subject,
        params={"artist_id": artist.pk},
        label=f"Check {artist.name}"[:300],
    )
    return job


def check_now(artist: Artist) -> list[Job]:
    """ "Check now" (the artist page, ``POST /api/artists/{id}/check``): IMVDb
    when a key is set, and every other check that applies (its followed
    sources); the active job of each that already runs. ``NothingToCheck``
    when there is nowhere to look."""
    jobs = [start_check(artist)] if can_check() else []
    for checks in OTHER_CHECKS:
        if checks.applies(artist):
            jobs += checks.start(artist)
    if not jobs:
        raise NothingToCheck(NO_KEY)
    return jobs


def latest_check(artist: Artist) -> Job | None:
    return (
        Job.objects.filter(kind=CHECK_KIND, subject=artist.subject).order_by("-created_at").first()
    )


def _artist(job: Job) -> Artist:
    artist = Artist.objects.filter(pk=job.params["artist_id"]).first()
    if artist is None:
        raise WorkError("The artist was deleted", "not_found")
    return artist


class CheckArtist(Kind):
    name = CHECK_KIND
    queue = "metadata"
    time_limit = 900
    child = "integrations.imvdb:discover"
    preload = ("integrations.imvdb",)
    # Waiting on IMVDb moves no bytes; the time limit bounds the check.
    busy_stages = frozenset({"starting", "searching", "listing", "fetching"})

    def prepare(self, job: Job) -> dict[str, Any]:
        artist = _artist(job)
        key = config.get("IMVDB_API_KEY")
        if not key:
            raise WorkError(NO_KEY, "not_configured")
        return {
            "key": key,  # for the child's requests only: never stored or logged
            "url": imvdb_url(),
            "links": settings.IMVDB_SOURCE_LINKS,
            "name": artist.name,
            "slugs": imvdb_slugs(artist),
            "imvdb_id": artist.imvdb_id,
            "seen": artist.imvdb_seen,
        }

    def store(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        """Each link passes the URL rule for content, as a playlist's entries do."""
        hosts: dict[str, bool] = {}
        for video in result["videos"]:
            kept = []
            for url in video["links"]:
                try:
                    kept.append(check_url(url, hosts))
                except BadUrl as e:
                    job.log("warning", f"Skipped {url[:200]}: {e}")
            video["links"] = kept
        return result

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        artist = Artist.objects.select_for_update().filter(pk=job.params["artist_id"]).first()
        if artist is None:
            return {"detail": "The artist was deleted meanwhile", "new": 0}
        if stored["imvdb_id"] is None:
            return {"detail": f"No artist named {artist.name} on IMVDb", "new": 0, "total": 0}
        if stored.get("searched") and not artist.imvdb_id:
            artist.imvdb_id = stored["imvdb_id"]
            job.log("info", f"{artist.name} is IMVDb artist {artist.imvdb_id}")
        found = [video for video in stored["videos"] if video["links"]]
        known = set(
            Video.objects.filter(
                owner_id=artist.owner_id, url__in=[url for v in found for url in v["links"]]
            ).values_list("url", flat=True)
        )
        new = [
            Video(
                owner_id=artist.owner_id,
                artist=artist,
                url=video["links"][0],
                title=video["title"][:300],
                year=video["year"],
                director=video["director"][:200],
            )
            for video in found
            if not known.intersection(video["links"])
        ]
        Video.objects.bulk_create(new, ignore_conflicts=True)
        artist.imvdb_seen = [*artist.imvdb_seen, *(video["imvdb_id"] for video in found)]
        artist.save(update_fields=["imvdb_id", "imvdb_seen"])
        created = list(artist.videos.filter(url__in=[video.url for video in new]))
        if artist.auto_download:
            for video in created:
                video.request_download(job.owner)
        return {
            "detail": f"{len(created)} new of {stored['total']} on IMVDb",
            "new": len(created),
            "total": stored["total"],
            "imvdb_id": artist.imvdb_id,
            "video_ids": [video.pk for video in created],
        }


@periodic("check_artists", lambda: SCHEDULE_EVERY, "{} artist check(s) queued")
def check_monitored_artists() -> int:
    """Queue the checks of the monitored artists not checked for a day: this
    run's share of them (never checked first), so that a thousand artists
    are checked over the day rather than all at once. Nothing without a key."""
    if not can_check():
        return 0
    monitored = Artist.objects.filter(monitored=True)
    share = max(1, math.ceil(monitored.count() / RUNS_PER_DAY))
    due = monitored.filter(
        Q(checked_at__isnull=True) | Q(checked_at__lt=timezone.now() - CHECK_EVERY)
    ).select_related("owner")
    artists = list(due.order_by(F("checked_at").asc(nulls_first=True), "pk")[:share])
    for artist in artists:
        start_check(artist)
    return len(artists)
