"""Job kinds, their Dramatiq actors, and the supervisor that runs one attempt.

A kind is declared by subclassing ``JobTask``; the subclass becomes a Dramatiq
actor named after the kind that receives only a job id. One attempt goes:

1. Claim the row atomically (``Job.claim``); a duplicate delivery stops here.
2. ``prepare()`` (with the database) builds plain parameters for the child.
3. The child process (``jobs.child.main`` calling ``child``) does the slow
   work in its own process group and reports over a pipe.
4. Every half second the supervisor writes a heartbeat/progress (at most once
   a second) or checks the row is still ours. If it was cancelled or taken
   back, the child's group gets SIGTERM, then SIGKILL after a short grace.
5. The outcome is recorded; ``succeeded()`` runs in the same transaction as
   the status change, so a late cancel cannot slip in between. The job's
   scratch directory is always removed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any, ClassVar

import dramatiq
from django.conf import settings
from django.db import OperationalError, transaction
from dramatiq.middleware import Shutdown

from jobs import child, family, publisher
from jobs.models import Job

logger = logging.getLogger(__name__)

TASKS: dict[str, JobTask] = {}
TICK = 0.5
KILL_GRACE = 1.0

_context = multiprocessing.get_context("forkserver")
# The forkserver imports yt-dlp once; each child then starts in a few ms. Never
# plain fork from the threaded worker: a lock held by another thread at fork
# time (OpenSSL's, for one) would hang the child.
_context.set_forkserver_preload(["videos.ytdlp"])


class JobTask:
    kind: ClassVar[str] = ""
    queue: ClassVar[str] = "default"
    time_limit: ClassVar[int] = 3600  # seconds
    child: ClassVar[str] = ""  # "module:function" run in a child process; else run_inline
    # A parent kind: after its own work it waits for the children it created.
    waits_for_children: ClassVar[bool] = False
    actor: dramatiq.Actor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        task = cls()

        def perform(job_id: str) -> None:
            run_attempt(job_id)

        perform.__name__ = cls.kind
        task.actor = dramatiq.actor(
            perform,
            actor_name=cls.kind,
            queue_name=cls.queue,
            max_retries=0,  # retries are ours, recorded on the job row
            time_limit=(cls.time_limit + 60) * 1000,
            notify_shutdown=True,
        )
        TASKS[cls.kind] = task

    def prepare(self, job: Job) -> dict[str, Any]:
        return dict(job.params)

    def succeeded(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        return result

    def queued(self, job: Job) -> None:
        """A new job of this kind was created (in the request's transaction)."""

    def run_inline(self, job: Job) -> dict[str, Any]:
        """The work of a kind without ``child``, run in the worker thread."""
        raise NotImplementedError(f"{self.kind} has neither a child nor run_inline")

    def received(self, job: Job, payload: Any) -> None:
        """Something the child emitted before finishing (see ``Reporter.emit``)."""

    def failed(self, job: Job) -> None:
        pass

    def cancelled(self, job: Job) -> None:
        pass

    def cancelled_many(self, jobs: list[Job]) -> None:
        """Queued jobs cancelled together (a parent's children)."""
        for job in jobs:
            self.cancelled(job)


def run_attempt(job_id: str) -> None:
    job = Job.claim(job_id)
    if job is None:
        logger.debug("Job %s is not claimable; skipping duplicate delivery", job_id)
        return
    task = TASKS[job.kind]
    work_dir = settings.WORK_DIR / job.pk.hex
    try:
        Supervisor(job, task, work_dir).run()
    except Shutdown:
        job.requeue("The worker shut down during this job")
    except child.WorkError as e:  # classified after the child (e.g. in succeeded())
        job.retry_or_fail(str(e), e.code, e.transient)
    except Exception as e:
        logger.exception("Job %s failed inside the supervisor", job_id)
        # A database hiccup (a deadlock, a lost connection) is worth another try.
        transient = isinstance(e, OperationalError)
        job.retry_or_fail(f"Internal error: {type(e).__name__}: {e}", "internal", transient)
    finally:
        # A job queued again keeps its partial download, so the next attempt resumes.
        if not Job.objects.filter(pk=job.pk, status="queued").exists():
            shutil.rmtree(work_dir, ignore_errors=True)


class Supervisor:
    def __init__(self, job: Job, task: JobTask, work_dir: Path) -> None:
        self.job = job
        self.task = task
        self.work_dir = work_dir
        self.state: dict[str, Any] = {}

    def run(self) -> None:
        job, task = self.job, self.task
        if not task.child:  # quick work that needs no process of its own
            self._succeed(task.run_inline(job))
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        params = {**task.prepare(job), "work_dir": str(self.work_dir)}
        conn, child_conn = _context.Pipe()
        proc = _context.Process(
            target=child.main, args=(task.child, params, child_conn), daemon=True
        )
        proc.start()  # the first start also starts the forkserver: a second or two
        child_conn.close()
        self.job.save_progress({})  # a heartbeat after that wait
        try:
            outcome, lost = self._watch(conn, proc)
        finally:
            _kill_group(proc)
            conn.close()
        if lost:
            return  # cancelled, or taken back by the watchdog: not ours to record
        if outcome is not None and outcome[0] == "result":
            self._succeed(outcome[1])
            return
        error, code, transient = self._failure(outcome, proc.exitcode)
        if not job.will_retry(transient):
            shutil.rmtree(self.work_dir, ignore_errors=True)  # gone before "failed" is seen
        job.retry_or_fail(error, code, transient)

    def _failure(self, outcome: tuple | None, exitcode: int | None) -> tuple[str, str, bool]:
        """What went wrong: (message, code, transient)."""
        if outcome is None:
            return f"The download process died (exit code {exitcode})", "crashed", True
        if outcome[0] == "timeout":
            return f"Timed out after {self.task.time_limit} s", "timeout", False
        if outcome[0] == "stalled":
            return f"No progress for {settings.JOB_STALL_TIMEOUT} s", "stalled", True
        return outcome[1]["message"], outcome[1]["code"], outcome[1]["transient"]

    def _watch(self, conn, proc) -> tuple[tuple | None, bool]:
        """Relay the child's messages until it finishes; returns (outcome, lost)."""
        deadline = time.monotonic() + self.task.time_limit
        # Well inside the watchdog's threshold, even while nothing moves.
        heartbeat_every = min(5.0, settings.JOB_STALE_AFTER / 4)
        next_tick = time.monotonic() + TICK
        last_write = last_moved = time.monotonic()
        last_mark = None  # (stage, bytes): the stall clock restarts when it changes
        dirty = False
        while True:
            if conn.poll(max(0.0, next_tick - time.monotonic())):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return None, False
                if message[0] == "progress":
                    self.state.update(message[1])
                    mark = (self.state.get("stage"), self.state.get("downloaded_bytes"))
                    if mark != last_mark:
                        last_mark, last_moved = mark, time.monotonic()
                    publisher.get().progress(self.job.event("progress", **self._frame()))
                    dirty = True
                elif message[0] == "log":
                    self.job.log(message[1], message[2])
                elif message[0] == "emit":
                    last_moved = time.monotonic()
                    with transaction.atomic():
                        self.task.received(self.job, message[1])
                else:
                    return message, False
            now = time.monotonic()
            if now < next_tick:
                continue
            next_tick = now + TICK
            if dirty and now - last_write >= 1.0:
                ours = self.job.save_progress(self.state)
                last_write, dirty = now, False
            elif now - last_write >= heartbeat_every:
                ours = self.job.save_progress({})
                last_write = now
            else:
                ours = self.job.still_running()
            if not ours:
                return None, True
            if now > deadline:
                return ("timeout",), False
            stalling = self.state.get("stage") != "processing"  # ffmpeg reports no bytes
            if stalling and now - last_moved > settings.JOB_STALL_TIMEOUT:
                return ("stalled",), False

    def _frame(self) -> dict[str, Any]:
        return {
            "percent": self.state.get("percent"),
            "downloaded_bytes": self.state.get("downloaded_bytes"),
            "total_bytes": self.state.get("total_bytes"),
            "speed": self.state.get("speed"),
            "eta": self.state.get("eta"),
            "stage": self.state.get("stage", ""),
        }

    def _succeed(self, result: dict[str, Any]) -> None:
        with transaction.atomic():
            if (
                not Job.objects.select_for_update()
                .filter(pk=self.job.pk, status="running")
                .exists()
            ):
                return
            self.job.save_progress(self.state)
            stored = self.task.succeeded(self.job, result, self.work_dir)
            shutil.rmtree(self.work_dir, ignore_errors=True)
            if not self.task.waits_for_children:
                self.job.mark_succeeded(stored)
                return
            Job.objects.filter(pk=self.job.pk).update(result=stored, is_parent=True)
        family.wait_for_children(self.job)


def _kill_group(proc: multiprocessing.process.BaseProcess) -> None:
    """SIGTERM the child's process group, SIGKILL what is left after a grace."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 2.0)):
        if not proc.is_alive():
            break
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            # the child has not made its group yet, or has just exited
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
        proc.join(wait)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers such as ffmpeg


class Ping(JobTask):
    """A job that does nothing: it shows the whole pipeline (broker, worker,
    database, live updates) answers, and lets benchmarks measure its overhead."""

    kind = "ping"

    def run_inline(self, job: Job) -> dict[str, Any]:
        return {"pong": True}
