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
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from jobs import broker, kinds
from jobs.models.log import JobLog
from jobs.status import Status
from mvidarr.compiled import apply_change

if TYPE_CHECKING:  # annotations only: Job is built from this mixin
    from jobs.models.job import Job

BATCH = 500


@dataclass
class ChildSpec:
    subject: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def batched(items: Iterable, size: int):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def send_all(jobs: list[Job]) -> None:
    """Like ``Job.enqueue`` for many jobs: one UPDATE, then the messages."""
    now = timezone.now()
    for job in jobs:
        job.enqueued_at = now
    type(jobs[0]).objects.bulk_update(jobs, ["enqueued_at"], batch_size=BATCH)
    broker.send((job.kind, job.pk) for job in jobs)


class ParentMixin:
    """The parent side of ``Job``."""

    @classmethod
    def start_parent(cls, kind: str, owner, label: str) -> Job:
        """A parent that does its own work in the request: already running,
        stage ``creating``, never sent to a worker. Call ``wait_for_children``
        once its children exist."""
        now = timezone.now()
        parent = cls.objects.create(
            kind=kind,
            queue=kinds.get(kind).queue,
            owner=owner,
            status=Status.RUNNING,
            is_parent=True,
            attempts=1,
            started_at=now,
            heartbeat_at=now,
            stage="creating",
            label=label[:300],
        )
        parent.publish_status()
        return parent

    def add_children(self, kind: str, specs: Iterable[ChildSpec]) -> list[Job]:
        """Create queued children of ``kind`` and send them once committed. A
        subject that already has an active job of that kind is skipped."""
        model = type(self)
        of_kind = kinds.get(kind)
        created: list[Job] = []
        for batch in batched(specs, BATCH):
            jobs = [
                model(
                    kind=kind,
                    owner_id=self.owner_id,
                    parent=self,
                    subject=spec.subject,
                    params=spec.params,
                    label=spec.label[:300],
                    queue=of_kind.queue,
                    priority=self.priority,
                )
                for spec in batch
            ]
            model.objects.bulk_create(jobs, ignore_conflicts=True)
            inserted = list(model.objects.filter(pk__in=[job.pk for job in jobs]))
            JobLog.objects.bulk_create(
                [
                    JobLog(job=job, message=f"Queued on {of_kind.queue} by {self.kind} {self.pk}")
                    for job in inserted
                ]
            )
            created += inserted
            if inserted:
                if change := of_kind.queued(inserted):
                    apply_change(change)
                transaction.on_commit(lambda inserted=inserted: send_all(inserted))
        return created

    def children_counts(self) -> dict[str, int]:
        model = type(self)
        return model.objects.counts_by_parent([self.pk])[self.pk]

    def wait_for_children(self) -> None:
        """The parent has created all its children: from now on they settle it."""
        type(self).objects.filter(pk=self.pk, status=Status.RUNNING).update(
            stage="waiting", heartbeat_at=timezone.now()
        )
        transaction.on_commit(partial(type(self).settle, self.pk))

    def settle_parent(self) -> None:
        """Settle the parent once this child's change is committed: of two
        children finishing together, the one committing last sees both done
        (settled inside its transaction, each would count the other active)."""
        if self.parent_id:
            transaction.on_commit(partial(type(self).settle, self.parent_id))

    @classmethod
    def settle(cls, parent_id) -> None:
        """Update a parent from its children, and finish it when none is active."""
        parent = cls.objects.filter(pk=parent_id, status=Status.RUNNING).first()
        if parent is None:
            return
        counts = parent.children_counts()
        active = counts[Status.QUEUED] + counts[Status.RUNNING]
        total = counts["total"]
        percent = round((total - active) * 100.0 / total, 2) if total else 100.0
        cls.objects.filter(pk=parent_id, status=Status.RUNNING).update(percent=percent)
        parent.publish_progress({"percent": percent, "stage": parent.stage or "waiting"})
        if parent.stage != "waiting" or active:
            return
        if counts[Status.FAILED]:
            parent.mark_failed(f"{counts[Status.FAILED]} of {total} failed", "children_failed")
        elif total and counts[Status.CANCELLED] == total:
            parent.mark_cancelled()
        else:
            parent.mark_succeeded({**(parent.result or {}), "children": counts})

    def cancel_children(self) -> int:
        """Cancel every active child: queued ones in one statement, running ones
        one by one so that their supervisors stop them."""
        model = type(self)
        queued = model.objects.filter(parent=self, status=Status.QUEUED)
        by_kind: dict[str, list[Job]] = {}
        for job in queued:
            by_kind.setdefault(job.kind, []).append(job)
        count = queued.update(
            status=Status.CANCELLED,
            finished_at=timezone.now(),
            error="Cancelled",
            error_code="cancelled",
        )
        for kind, jobs in by_kind.items():
            kinds.get(kind).cancelled_many(jobs)
        for job in model.objects.filter(parent=self, status=Status.RUNNING):
            count += job.cancel()
        return count
