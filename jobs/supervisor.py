"""The supervisor: one attempt of one job, from claim to outcome.

1. Claim the row atomically (``Job.claim``); a duplicate delivery stops here.
2. ``prepare()`` (with the database) builds plain parameters for the child.
3. The child process (``jobs.child.main`` calling the kind's ``child``) does
   the slow work in its own process group and reports over a pipe.
4. The process's attempt book (``jobs.attempts``) writes progress and
   heartbeats once a second and checks every half second that the row is
   still this attempt, for all running attempts together. If it was cancelled
   or taken back, the child's group gets SIGTERM, then SIGKILL after a grace.
5. On success the kind's ``store()`` does its slow work (moving files) outside
   any transaction and the row keeps what it stored (``jobs.models.stored``),
   so that a worker dying now loses nothing: the next attempt records it.
   Then one short transaction locks the row, runs ``succeeded()`` and marks
   the job, so a late cancel cannot slip in between. A parent instead leaves
   the attempt book (any write of it under way committed first) and waits for
   its children, which settle it from then on.
   A failure is classified and retried or failed. The scratch directory is
   removed unless the job is queued again (the next attempt resumes from it).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from dramatiq.middleware import Shutdown

from jobs import broker, child, kinds
from jobs.attempts import Attempt, book
from jobs.child import WorkError, internal_error
from jobs.logcontext import about_job
from jobs.models import WORKER_ID, Job

logger = logging.getLogger(__name__)

TICK = 0.5
KILL_GRACE = 1.0

# Never plain fork from the threaded worker: a lock held by another thread at
# fork time (OpenSSL's, for one) would hang the child. The forkserver imports
# what the kinds ask for once; each child then starts in a few ms.
_context = multiprocessing.get_context("forkserver")
_preload_lock = threading.Lock()
_preloaded = False


def start_forkserver() -> None:
    """Start the job forkserver with every kind's preloads (idempotent)."""
    global _preloaded
    with _preload_lock:
        if not _preloaded:
            # The freeze comes last: it covers what every other preload built.
            _context.set_forkserver_preload([*kinds.preloads(), "jobs.forkfreeze"])
            _preloaded = True
    multiprocessing.forkserver.ensure_running()


# Set when this process's workers are stopping: it claims nothing more.
stopping = threading.Event()


def run_attempt(job_id: str) -> None:
    with about_job(job_id):  # every line logged meanwhile names the job
        _attempt(job_id)


def _attempt(job_id: str) -> None:
    if stopping.is_set():
        # A stopping worker may still be handed a message (even the one it just
        # sent for a job it handed back): pass it on, a second later, to a
        # worker that stays.
        if kind := Job.objects.filter(pk=job_id).values_list("kind", flat=True).first():
            broker.send([(kind, job_id)], delay=1.0)
        return
    job = Job.claim(job_id, WORKER_ID)
    if job is None:
        logger.debug("Job %s is not claimable; skipping duplicate delivery", job_id)
        return
    started = time.monotonic()
    try:
        Supervisor(job).run()
    except Shutdown:
        job.requeue("The worker shut down during this job")
    except WorkError as e:  # classified outside the child (prepare, run_inline)
        job.retry_or_fail(str(e), e.code, e.transient, detail=e.detail)
    except Exception as e:
        logger.exception("Job %s failed inside the supervisor", job_id)
        error = internal_error(e)
        # A database hiccup (a deadlock, a lost connection) is worth another try.
        transient = isinstance(e, OperationalError)
        if transient:
            # A connection PostgreSQL dropped (a restart) stays broken: without
            # a fresh one the retry could not be recorded, and the job would
            # stay "running" until its heartbeat went stale (90 s).
            connection.close()
        job.retry_or_fail(str(error), error.code, transient, detail=error.detail)
    finally:
        job.flush_log()  # what the child said last, even for an attempt that was not ours
        # A job queued (or running) again keeps its scratch: the next attempt resumes it.
        if job.is_finished:
            shutil.rmtree(job.work_dir, ignore_errors=True)
        _log_end(job, time.monotonic() - started)


def _log_end(job: Job, seconds: float) -> None:
    """One line per attempt: queued means it will be retried, running that a
    parent waits for its children."""
    outcome = f"{job.status} ({job.error_code})" if job.error_code else job.status
    logger.info(
        "%s attempt %d ended after %.2f s: %s",
        job.kind,
        job.attempts,
        seconds,
        outcome,
        extra={"kind": job.kind, "attempt": job.attempts, "status": job.status},
    )


class Supervisor:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.spec = job.spec
        self.state: dict[str, Any] = {}
        self.attempt: Attempt | None = None  # in the attempt book while its child runs

    def run(self) -> None:
        job, spec = self.job, self.spec
        if job.stored is not None and self._record_stored():
            return
        if not spec.child:  # quick work that needs no process of its own
            self._succeed(spec.run_inline(job))
            return
        # In the attempt book from here to the end, so the job keeps its
        # heartbeat while a finished download is moved and probed.
        self.attempt = book.add(job)
        try:
            self._run_child(self.attempt)
        finally:
            book.remove(self.attempt)

    def _run_child(self, attempt) -> None:
        job, spec = self.job, self.spec
        job.work_dir.mkdir(parents=True, exist_ok=True)
        params = {**spec.prepare(job), "work_dir": str(job.work_dir)}
        start_forkserver()  # at once, unless this is the first job since start-up
        conn, child_conn = _context.Pipe()
        proc = _context.Process(
            target=child.main, args=(spec.child, params, child_conn, settings.JOB_NICE), daemon=True
        )
        proc.start()
        child_conn.close()
        try:
            outcome, lost = self._relay(conn, attempt)
        finally:
            _kill_group(proc)
            conn.close()
        if lost:  # cancelled, or taken back by the watchdog: not ours to record
            job.refresh_from_db(fields=["status"])
            return
        if outcome is not None and outcome[0] == "result":
            self._succeed(outcome[1])
            return
        self._fail(self._failure(outcome, proc.exitcode))

    def _fail(self, error: WorkError) -> None:
        if not self.job.will_retry(error.transient):
            shutil.rmtree(self.job.work_dir, ignore_errors=True)  # gone before "failed" is seen
        self.job.retry_or_fail(str(error), error.code, error.transient, detail=error.detail)

    def _failure(self, outcome: tuple | None, exitcode: int | None) -> WorkError:
        """What went wrong, in plain words, with the raw facts as its detail."""
        if outcome is None:
            detail = f"The child process exited with code {exitcode}."
            return WorkError("The job's process stopped unexpectedly", "crashed", True, detail)
        if outcome[0] == "timeout":
            limit = self.spec.time_limit
            return WorkError(f"Timed out: the job ran past its limit of {limit} s", "timeout")
        if outcome[0] == "stalled":
            stall = settings.JOB_STALL_TIMEOUT
            return WorkError(f"Stalled: no progress for {stall} s", "stalled", transient=True)
        found = outcome[1]
        return WorkError(found["message"], found["code"], found["transient"], found["detail"])

    def _relay(self, conn, attempt) -> tuple[tuple | None, bool]:
        """Relay the child's messages until it finishes; returns (outcome, lost).
        Progress goes to the publisher at once and, with the log lines, to the
        process's attempt book (``jobs.attempts``), which writes and checks
        every running attempt of this process together."""
        deadline = time.monotonic() + self.spec.time_limit
        last_moved = time.monotonic()
        last_mark = None  # (stage, bytes): the stall clock restarts when it changes
        while not attempt.lost.is_set():
            if conn.poll(TICK):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return None, False
                if message[0] == "progress":
                    self.state.update(message[1])
                    mark = tuple(self.state.get(k) for k in ("stage", "downloaded_bytes", "detail"))
                    if mark != last_mark:
                        last_mark, last_moved = mark, time.monotonic()
                    self.job.publish_progress(self.state)
                    book.progress(attempt, message[1])
                elif message[0] == "log":
                    book.log(attempt, message[1], message[2])
                elif message[0] == "emit":
                    last_moved = time.monotonic()
                    # Outside any transaction: a kind may move files here.
                    self.spec.received(self.job, message[1])
                else:
                    return message, False
            now = time.monotonic()
            if now > deadline:
                return ("timeout",), False
            busy = self.state.get("stage") in self.spec.busy_stages
            if not busy and now - last_moved > settings.JOB_STALL_TIMEOUT:
                return ("stalled",), False
        return None, True

    def _succeed(self, result: dict[str, Any]) -> None:
        job, spec = self.job, self.spec
        slow = type(spec).store is not kinds.Kind.store
        if slow and not job.still_running():  # no slow work for a job that is gone
            return
        try:
            stored = spec.store(job, result, job.work_dir)
        except WorkError as e:
            self._fail(e)
            return
        if slow and not job.keep_stored(stored):  # lost meanwhile: nobody will record it
            spec.discard(job, stored)
            return
        self._record(stored)

    def _record_stored(self) -> bool:
        """The last attempt stored its work (a download filed in the library)
        and died before recording it: record that now instead of doing the
        work twice. When it cannot be recorded (the file was removed since),
        undo what is left and return False: this attempt does the work again."""
        self.job.log("info", "Recording what the last attempt stored", defer=True)
        try:
            self._record(self.job.stored)
        except OSError as e:
            self.job.log("warning", f"Could not record it ({e}); starting again", defer=True)
            self.job.discard_stored()
            return False
        return True

    def _record(self, stored: dict[str, Any]) -> None:
        """Mark the job succeeded with what ``store()`` returned, in one short
        transaction with the kind's own bookkeeping (``succeeded()``)."""
        job, spec = self.job, self.spec
        if type(spec).succeeded is kinds.Kind.succeeded and not spec.waits_for_children:
            # Nothing to do with the database but the status change, whose
            # UPDATE is scoped to this attempt: no lock needed.
            if not job.mark_succeeded(stored):
                job.discard_stored()
            return
        with transaction.atomic():
            if not job.lock_attempt():
                transaction.on_commit(job.discard_stored)
                return
            if self.state:
                job.save_progress(self.state)
            final = spec.succeeded(job, stored)
            if not spec.waits_for_children:
                job.mark_succeeded(final)
                return
            job.record_result(final)
        shutil.rmtree(job.work_dir, ignore_errors=True)
        # From here on its children write the row: the book's last write of
        # the child's progress (stage "listing") must not land after "waiting".
        if self.attempt is not None:
            book.remove(self.attempt)
        job.wait_for_children()


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
