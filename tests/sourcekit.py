"""Shared pieces of the followed-sources tests: feeds of the local media
server, and running a check here and now."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from jobs.models import Job
from jobs.supervisor import run_attempt

# Ten entries, of which the first three pass FILTERS: the 4th is excluded by
# its title, the 5th is too long, the 6th to 10th are older than allowed
# (``step`` 24: item i is dated i days before 2024-01-01).
TITLES = [
    "Band - First",
    "Band - Second",
    "Band - Third",
    "Band - Live at Home",
    "Band - Concert",
    *(f"Band - Old {i}" for i in range(6, 11)),
]
DURATIONS = ["", "", "", "", "7200"]
FILTERS = {"title_exclude": "live", "max_duration": 600, "published_after": "2023-12-27"}


def feed(media, titles=TITLES, durations=DURATIONS, **knobs) -> tuple[str, str]:
    """``(url, key)``: a feed of the media server with these items, whose
    requests the server counts under ``key`` (also unique to the test)."""
    key = uuid.uuid4().hex
    query = {"titles": "|".join(titles), "durations": "|".join(durations), "step": 24}
    return media.url("feed.xml?" + urlencode({**query, **knobs, "key": key})), key


def run(job: Job) -> Job:
    """One attempt of a queued job, here and now (as a worker would)."""
    run_attempt(str(job.pk))
    job.refresh_from_db()
    return job
