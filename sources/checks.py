"""Checking sources: the ``check_source`` job kind, the scheduled task that
queues checks of due sources, and checking an artist's sources.

A check runs on the ``metadata`` queue (never held by "Pause downloads"),
once: a failed check is not retried, it records what went wrong and the
next one comes on the schedule.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations import events
from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import Job
from jobs.scheduler import periodic
from sources import intake
from sources.models import FIRST_CHECK_SPREAD, KIND, Source
from videos import discovery
from videos.models import Artist
from videos.netguard import policy_params

logger = logging.getLogger(__name__)

# The scheduled task runs this often (seconds) and queues at most this many
# checks a run, longest overdue first: 100 sources due at once start over a
# minute or so, not in the same second, and the metadata queue stays open
# for what people add meanwhile.
SCHEDULE_EVERY = 10
CHECKS_PER_RUN = 20


def _source(job: Job) -> Source | None:
    sources = Source.objects.select_related("artist", "owner")
    return sources.filter(pk=job.params["source_id"]).first()


class CheckSource(Kind):
    name = KIND
    queue = "metadata"
    time_limit = 600
    child = "sources.listing:check"
    preload = ("videos.ytdlp", "sources.listing")
    run_now_label = "Check next"
    quiet = True  # a source's page shows its checks; Activity on request

    def prepare(self, job: Job) -> dict[str, Any]:
        source = _source(job)
        if source is None:
            raise WorkError("The source was deleted", "gone")
        return {
            "url": source.url,
            "is_feed": source.is_feed,
            "etag": source.etag,
            "last_modified": source.last_modified,
            "filters": source.filters.as_params(),
            "network_policy": policy_params(),
        }

    def store(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        """The URL rule for every entry, before the transaction (it resolves hosts)."""
        return {**result, "entries": intake.check_urls(result.get("entries", []))}

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        source = _source(job)
        if source is None:
            return {"detail": "The source was deleted meanwhile"}
        found = {"is_feed": stored["is_feed"]}
        if stored["is_feed"]:
            found |= {"etag": stored["etag"][:500], "last_modified": stored["last_modified"][:100]}
        if stored.get("unchanged"):
            source.record_outcome("Feed unchanged", True, **found)
            return {"source_id": source.pk, "new": 0, "unchanged": True}
        if not source.name and stored.get("title"):
            found["name"] = stored["title"][:200]
        taken = intake.take(source, stored["entries"])
        source.record_outcome(taken.summary, True, **found)
        job.log("info", taken.summary)
        if taken.videos:
            name, titles = source.display_name, [v.label for v in taken.videos]
            transaction.on_commit(lambda: events.new_videos_found(name, titles))
        return {
            "source_id": source.pk,
            "new": len(taken.videos),
            "listed": taken.listed,
            "skipped": taken.skipped,
            "video_ids": [v.pk for v in taken.videos][:1000],
            "download_job_id": taken.download_job or None,
        }

    def failed(self, job: Job) -> None:
        if source := _source(job):
            source.record_outcome(job.error, False)

    def cancelled(self, job: Job) -> None:
        if source := _source(job):
            source.record_outcome("The check was cancelled", False)


@periodic("check_sources", lambda: SCHEDULE_EVERY, "{} source check(s) queued")
def check_due_sources() -> int:
    """Queue a check of every enabled source whose time has come and that has
    none active; a source never scheduled gets its first check within
    ``FIRST_CHECK_SPREAD`` seconds, at a random point (jitter)."""
    now = timezone.now()
    for source in Source.objects.filter(enabled=True, next_check_at__isnull=True):
        delay = timedelta(seconds=random.uniform(0, FIRST_CHECK_SPREAD))
        Source.objects.filter(pk=source.pk, next_check_at__isnull=True).update(
            next_check_at=now + delay
        )
    busy = Job.objects.active().filter(kind=KIND).values_list("subject", flat=True)
    busy_ids = [int(s.partition(":")[2]) for s in busy]
    due = Source.objects.due(now).exclude(pk__in=busy_ids).select_related("owner")
    count = 0
    for source in due[:CHECKS_PER_RUN]:
        _, created = source.request_check()
        count += created
    return count


class ArtistSources:
    """An artist's followed sources, for "Check now" on the artist
    (``videos.discovery.OTHER_CHECKS``): each enabled one is checked now,
    or its running check returned."""

    @staticmethod
    def _of(artist: Artist):
        return Source.objects.filter(artist=artist, enabled=True)

    def applies(self, artist: Artist) -> bool:
        return self._of(artist).exists()

    def start(self, artist: Artist) -> list[Job]:
        return [source.request_check()[0] for source in self._of(artist).select_related("owner")]


discovery.OTHER_CHECKS.append(ArtistSources())
