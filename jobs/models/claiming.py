"""Claiming a job: one conditional UPDATE moves it to running, and "run now"
moves a queued one to the front of its queue. See ``ClaimMixin.claim``."""

from __future__ import annotations

import functools
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from jobs.models.queryset import CLAIM_SLACK
from jobs.models.queues import PausedQueue
from jobs.status import Status
from mvidarr.compiled import CompiledUpdate

if TYPE_CHECKING:  # annotations only: Job is built from this mixin
    from jobs.models.job import Job

WORKER_NAME = socket.gethostname()
# This process, as the jobs it runs and its WorkerBeat name it.
WORKER_ID = f"{WORKER_NAME}:{os.getpid()}"


class ClaimMixin:
    @classmethod
    def claim(cls, pk: str, worker: str = WORKER_ID) -> Job | None:
        """Atomically move a queued job to running; None if there is nothing to run.

        1. Usually nothing waits ahead of the job: one UPDATE claims it, on
           the condition that it is queued, due, not paused and that no job of
           a higher priority waits in its queue.
        2. Otherwise a message is a turn to run one job of its queue. When jobs
           of a higher priority wait ("run now"), the turn goes to the first of
           them, which records whose turn it took (``turn_of``); its own
           message, arriving later, runs that job instead. So each message runs
           at most one job, every job gets a turn, and a duplicate runs nothing.
        """
        if claimed := cls._claim_one(pk, worker, first=True):
            return claimed
        paused = PausedQueue.objects.filter(queue=OuterRef("queue"))
        job = (
            cls.objects.filter(pk=pk)
            .annotate(paused=Exists(paused))
            .values("queue", "priority", "status", "turn_of", "paused")
            .first()
        )
        if job is None:
            return None
        if job["status"] != Status.QUEUED:
            candidates = [job["turn_of"]] if job["turn_of"] else []
        elif job["paused"]:
            return None  # held: resuming sends it again
        else:
            first = (
                cls.objects.claimable()
                .filter(queue=job["queue"], priority__gt=job["priority"])
                .order_by("-priority", "created_at")
                .values_list("pk", flat=True)[:3]
            )
            candidates = [*first, pk]
        for candidate in candidates:
            ours = str(candidate) == str(pk)
            if claimed := cls._claim_one(candidate, worker, turn_of=None if ours else pk):
                return claimed
        return None

    @classmethod
    def _claim_one(cls, pk, worker: str, first: bool = False, turn_of=None) -> Job | None:
        """Claim one job in one conditional UPDATE that returns the row (when
        ``first``, on the condition that no job waits ahead of it). The log
        line waits for the attempt's first write."""
        now = timezone.now()
        cutoff = now + timedelta(seconds=CLAIM_SLACK)
        values = {"pk": pk, "worker": worker, "now": now, "cutoff": cutoff}
        if not first:
            values["turn_of"] = turn_of
        rows = _claim_update(cls, first).run(**values)
        if not rows:
            return None
        job = rows[0]
        job.log("info", f"Attempt {job.attempts} started on {worker}", defer=True)
        job.publish_status()
        return job

    def prioritize(self: Job) -> bool:
        """Move a queued job ahead of the others in its queue ("run now")."""
        if not self.spec.prioritisable:
            return False
        top = (
            type(self)
            .objects.filter(queue=self.queue, status=Status.QUEUED)
            .aggregate(m=models.Max("priority"))["m"]
        )
        self.priority = max(top or 0, self.priority) + 1
        with transaction.atomic():
            if (
                not type(self)
                .objects.filter(pk=self.pk, status=Status.QUEUED)
                .update(priority=self.priority)
            ):
                return False
            self.log("info", "Moved to the front of the queue")
        return True


# Values no claim ever passes, of each field's type (see ``CompiledUpdate``).
_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
PLACEHOLDERS = {
    "pk": ("id", uuid.UUID(int=1)),
    "worker": ("worker", "\x00"),
    "now": ("started_at", _SINCE),
    "cutoff": ("retry_at", _SINCE + timedelta(seconds=CLAIM_SLACK)),
    "turn_of": ("turn_of", uuid.UUID(int=2)),
}


@functools.cache
def _claim_update(model, first: bool) -> CompiledUpdate:
    """The claim's UPDATE: the job, if claimable (and, when ``first``, if no
    claimable job of a higher priority waits in its queue), becomes running."""

    def build(p: dict) -> tuple:
        rows = model.objects.claimable(now=p["now"]).filter(pk=p["pk"])
        if first:
            ahead = model.objects.claimable(now=p["now"]).filter(
                queue=OuterRef("queue"), priority__gt=OuterRef("priority")
            )
            rows = rows.filter(~Exists(ahead))
        return rows, {
            "status": Status.RUNNING,
            "turn_of": None if first else p["turn_of"],
            "retry_at": None,
            "attempts": F("attempts") + 1,
            "started_at": p["now"],
            "heartbeat_at": p["now"],
            "worker": p["worker"],
            "error": "",
            "error_code": "",
            "error_detail": "",
            "stage": "starting",
            "percent": None,
        }

    placeholders = dict(PLACEHOLDERS)
    if first:  # its turn is its own
        del placeholders["turn_of"]
    return CompiledUpdate(model, placeholders, build)
