"""The running attempts of this process, written and checked together.

Each supervisor used to write its job's progress once a second and ask every
half second whether its attempt was still its own: with 20 downloads, 60
statements and 20 commits a second. Here one thread does it for all of them:

1. Every ``TICK`` one SELECT reads status and attempts of every attempt this
   process runs; an attempt whose row says otherwise (cancelled, or taken
   back by the watchdog) is marked lost, and its supervisor stops the child.
2. Every second, one transaction writes the progress of every attempt that
   moved, the log lines their children sent, and a heartbeat for the rest.
   Each UPDATE is scoped to its attempt, so a lost one writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from jobs.models import Job, JobLog, Status
from jobs.status import PROGRESS_FIELDS

logger = logging.getLogger(__name__)

TICK = 0.5
WRITE_EVERY = 1.0


@dataclass
class Attempt:
    job: Job
    state: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    lines: list[JobLog] = field(default_factory=list)
    lost: threading.Event = field(default_factory=threading.Event)


class Attempts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Held by a write from its snapshot to its commit: ``remove`` waits for
        # it, so nothing of an attempt is written after it leaves the book.
        self._writing = threading.Lock()
        self._running: dict[Any, Attempt] = {}
        self._thread: threading.Thread | None = None

    def add(self, job: Job) -> Attempt:
        # The job's own pending lines (its claim) go out with the first write.
        attempt = Attempt(job, lines=job.take_log_lines())
        with self._lock:
            self._running[job.pk] = attempt
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="attempts", daemon=True)
                self._thread.start()
        return attempt

    def remove(self, attempt: Attempt) -> None:
        """Stop tracking, once a write under way has committed: from here on
        the attempt writes its row itself. The log lines not written yet go
        with the job's next state change, with the time they were made."""
        with self._writing, self._lock:
            if self._running.get(attempt.job.pk) is attempt:
                del self._running[attempt.job.pk]
            attempt.job.defer_log_lines(attempt.lines)
            attempt.lines = []

    def progress(self, attempt: Attempt, state: dict[str, Any]) -> None:
        with self._lock:
            attempt.state.update(state)
            attempt.dirty = True

    def log(self, attempt: Attempt, level: str, message: str) -> None:
        line = JobLog(job_id=attempt.job.pk, level=level, message=message[:4000])
        with self._lock:
            attempt.lines.append(line)

    # -- the thread ------------------------------------------------------------

    def _loop(self) -> None:
        last_write = time.monotonic()
        while True:
            time.sleep(TICK)
            try:
                self._check()
                if time.monotonic() - last_write >= WRITE_EVERY:
                    last_write = time.monotonic()
                    self._write()
            except Exception:  # the database may be away for a moment: next round
                logger.warning("Could not check or write the running attempts", exc_info=True)
            finally:
                close_old_connections()

    def _check(self) -> None:
        with self._lock:
            running = {pk: a.job.attempts for pk, a in self._running.items()}
        if not running:
            return
        rows = Job.objects.filter(pk__in=running).values_list("pk", "status", "attempts")
        ours = {pk for pk, status, attempts in rows if status == Status.RUNNING}
        ours &= {pk for pk, status, attempts in rows if attempts == running.get(pk)}
        with self._lock:
            for pk, attempt in self._running.items():
                if pk in running and pk not in ours:
                    attempt.lost.set()

    def _write(self) -> None:
        with self._writing:
            self._write_batch()

    def _write_batch(self) -> None:
        with self._lock:
            batch = []
            for attempt in self._running.values():
                fields = {k: attempt.state[k] for k in PROGRESS_FIELDS if k in attempt.state}
                batch.append((attempt, fields if attempt.dirty else {}, attempt.lines))
                attempt.dirty, attempt.lines = False, []
        if not batch:
            return
        now = timezone.now()
        quiet = [attempt.job.pk for attempt, fields, _ in batch if not fields]
        with transaction.atomic():
            for attempt, fields, _ in batch:
                if fields:
                    attempt.job.write_progress(fields, now)
            if quiet:
                Job.objects.filter(pk__in=quiet).heartbeat(now)
            JobLog.objects.bulk_create([line for _, _, lines in batch for line in lines])


book = Attempts()
