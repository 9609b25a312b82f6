"""Pausing downloads: the one path the pages, the API and the admin share.

"Downloads" are the queues of pausable kinds (``Kind.pausable``). Pausing makes
claims skip those queues: messages that arrive meanwhile are dropped, running
jobs finish. Resuming re-sends every held job, since their messages are gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from jobs import kinds
from jobs.models import Job, PausedQueue, Status
from jobs.models.family import batched, send_all


def state() -> dict[str, Any]:
    """``paused``, since when, and why (empty: a person paused them)."""
    held = PausedQueue.objects.filter(queue__in=kinds.pausable_queues()).order_by("paused_at")
    first = held.first()
    return {
        "paused": first is not None,
        "paused_at": first.paused_at if first else None,
        "reason": first.reason if first else "",
    }


def pause(reason: str = "") -> None:
    """Hold the downloads; ``reason`` says why when it was not a person (a full disk)."""
    for queue in kinds.pausable_queues():
        PausedQueue.pause(queue, reason)


def resume() -> int:
    """Unpause, and send the held jobs again; returns how many were sent."""
    queues = [queue for queue in kinds.pausable_queues() if PausedQueue.resume(queue)]
    held = Job.objects.due().filter(queue__in=queues).order_by("-priority", "created_at")
    count = 0
    for batch in batched(held.iterator(), 500):
        transaction.on_commit(lambda batch=batch: send_all(batch))
        count += len(batch)
    return count


def mark_held(jobs: Iterable[Job]) -> None:
    """Set ``held`` on each job: queued in a paused queue, so it waits for a
    resume (the pages say "Paused" rather than what it would be doing)."""
    jobs = list(jobs)
    queues = {job.queue for job in jobs if job.status == Status.QUEUED}
    paused = set(
        PausedQueue.objects.filter(queue__in=queues).values_list("queue", flat=True)
        if queues
        else ()
    )
    for job in jobs:
        job.held = job.status == Status.QUEUED and job.queue in paused
