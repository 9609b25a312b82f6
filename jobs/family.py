"""Parent jobs (a playlist, a bulk action) and their children.

A parent creates its children in batches — one INSERT, one SELECT and one
UPDATE per batch, however many thousands there are — and then *waits*: it
stays ``running`` with stage ``waiting`` without holding a worker. Each child
that finishes settles the parent: its progress is children finished/total, and
once none is active it succeeds, or fails with the counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from jobs import publisher
from jobs.models import Job, JobLog

BATCH = 500
COUNTED = ("queued", "running", "succeeded", "failed", "cancelled")


@dataclass
class ChildSpec:
    subject: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def batched(items: Iterable, size: int):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def add_children(parent: Job, kind: str, specs: Iterable[ChildSpec]) -> list[Job]:
    """Create queued children of ``kind`` and send them once committed. A
    subject that already has an active job of that kind is skipped."""
    from jobs.actors import TASKS

    queue = TASKS[kind].queue
    created: list[Job] = []
    for batch in batched(specs, BATCH):
        jobs = [
            Job(
                kind=kind,
                owner_id=parent.owner_id,
                parent=parent,
                subject=spec.subject,
                params=spec.params,
                label=spec.label[:300],
                queue=queue,
                priority=parent.priority,
            )
            for spec in batch
        ]
        Job.objects.bulk_create(jobs, ignore_conflicts=True)
        inserted = list(Job.objects.filter(pk__in=[job.pk for job in jobs]))
        JobLog.objects.bulk_create(
            [
                JobLog(job=job, message=f"Queued on {queue} by {parent.kind} {parent.pk}")
                for job in inserted
            ]
        )
        created += inserted
        transaction.on_commit(lambda inserted=inserted: send_all(inserted))
    return created


def send_all(jobs: list[Job]) -> None:
    """Like ``Job.enqueue`` for many jobs: one UPDATE, then the messages."""
    from jobs.actors import TASKS

    now = timezone.now()
    messages = []
    for job in jobs:
        message = TASKS[job.kind].actor.message(str(job.pk))
        job.message_id, job.enqueued_at = message.message_id, now
        messages.append((TASKS[job.kind].actor.broker, message))
    Job.objects.bulk_update(jobs, ["message_id", "enqueued_at"], batch_size=BATCH)
    for broker, message in messages:
        broker.enqueue(message)


def children_counts(parent_id) -> dict[str, int]:
    rows = Job.objects.filter(parent_id=parent_id).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(COUNTED, 0) | {row["status"]: row["n"] for row in rows}
    counts["total"] = sum(counts[status] for status in COUNTED)
    return counts


def wait_for_children(parent: Job) -> None:
    """The parent has created all its children: from now on they settle it."""
    Job.objects.filter(pk=parent.pk, status="running").update(
        stage="waiting", heartbeat_at=timezone.now()
    )
    settle(parent.pk)


def settle(parent_id) -> None:
    """Update a parent from its children, and finish it when none is active."""
    parent = Job.objects.filter(pk=parent_id, status="running").first()
    if parent is None:
        return
    counts = children_counts(parent_id)
    active = counts["queued"] + counts["running"]
    total = counts["total"]
    percent = round((total - active) * 100.0 / total, 2) if total else 100.0
    Job.objects.filter(pk=parent_id, status="running").update(percent=percent)
    frame = {
        "percent": percent,
        "downloaded_bytes": None,
        "total_bytes": None,
        "speed": None,
        "eta": None,
    }
    publisher.get().progress(parent.event("progress", stage=parent.stage or "waiting", **frame))
    if parent.stage != "waiting" or active:
        return
    if counts["failed"]:
        parent.mark_failed(f"{counts['failed']} of {total} failed", "children_failed")
    elif total and counts["cancelled"] == total:
        parent.mark_cancelled()
    else:
        parent.mark_succeeded({"children": counts})


def cancel_children(parent: Job) -> int:
    """Cancel every active child: queued ones in one statement, running ones
    one by one so that their supervisors stop them."""
    from jobs.actors import TASKS

    now = timezone.now()
    queued = Job.objects.filter(parent=parent, status="queued")
    by_kind: dict[str, list[Job]] = {}
    for job in queued:
        by_kind.setdefault(job.kind, []).append(job)
    count = queued.update(
        status="cancelled", finished_at=now, error="Cancelled", error_code="cancelled"
    )
    for kind, jobs in by_kind.items():
        TASKS[kind].cancelled_many(jobs)
    for job in Job.objects.filter(parent=parent, status="running"):
        count += job.cancel()
    return count
