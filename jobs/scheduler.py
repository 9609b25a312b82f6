"""Periodic tasks: find jobs whose worker died, re-send queued jobs whose
broker message is gone, prune old history. Runs as a thread in embedded mode
and as the ``scheduler`` command in scaled mode, where a Redis lock keeps
exactly one scheduler active however many are started. Each task's state
(last run, duration, outcome, next run, "run now") lives in ``ScheduledTask``
rows, so the System page can show and trigger them. Other apps add tasks
with ``@periodic``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from jobs import broker
from jobs.models import WORKER_ID, WORKER_NAME, Job, ScheduledTask, Status

logger = logging.getLogger(__name__)

LOCK_KEY = "mvidarr:scheduler-lock"
LOCK_TTL = 30


@dataclass(frozen=True)
class Periodic:
    fn: Callable[[], int]
    every: Callable[[], float]  # seconds, read from settings when it runs
    outcome: str  # "{}" is replaced by what fn returns


PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, every: Callable[[], float], outcome: str):
    def register(fn: Callable[[], int]) -> Callable[[], int]:
        PERIODIC[name] = Periodic(fn, every, outcome)
        return fn

    return register


@periodic("watchdog", lambda: min(3, settings.WORKER_DEAD_AFTER / 3), "{} job(s) recovered")
def watchdog() -> int:
    """Queue again (or fail, when out of attempts) the running jobs whose
    worker is gone.

    1. A worker process records a beat every couple of seconds. A running job
       whose worker has not beaten for ``MVIDARR_WORKER_DEAD_AFTER`` (and whose
       own heartbeat is as old) lost its worker: recovered within seconds.
    2. Failing that, any running job whose own heartbeat is older than
       ``MVIDARR_JOB_STALE_AFTER`` is recovered (a hung supervisor thread).
    A worker that still beats keeps its jobs.
    """
    count = 0
    for job in (Job.objects.orphaned() | Job.objects.stale()).distinct():
        if job.requeue("Its worker stopped responding"):
            count += 1
    if count:
        logger.warning("Watchdog recovered %d job(s) from dead workers", count)
    return count


@periodic("settle_parents", lambda: 15, "{} waiting parent(s) checked")
def settle_parents() -> int:
    """A parent is settled by its children; this catches one whose last child
    finished on a worker that died before it could settle it."""
    parents = list(Job.objects.waiting_parents().values_list("pk", flat=True))
    for parent_id in parents:
        Job.settle(parent_id)
    return len(parents)


@periodic("reconciler", lambda: min(30, settings.JOB_RESEND_AFTER / 2), "{} job(s) re-sent")
def reconcile(everything: bool = False) -> int:
    """Re-send queued jobs whose broker message is lost. The claim makes a
    needless re-send harmless; ``everything`` is for an embedded-mode start,
    where the in-memory broker began empty."""
    jobs = list(Job.objects.filter(status=Status.QUEUED) if everything else Job.objects.unclaimed())
    if not everything and jobs:
        held = broker.held_job_ids({job.queue for job in jobs})
        jobs = [job for job in jobs if held is None or str(job.pk) not in held]
    for job in jobs:
        job.enqueue()
    if jobs:
        logger.info("Reconciler re-sent %d queued job(s)", len(jobs))
    return len(jobs)


def recover_after_restart() -> None:
    """Embedded mode only: this process is the only worker, so anything this
    host left running died with the previous process."""
    for job in Job.objects.filter(status=Status.RUNNING, worker__startswith=f"{WORKER_NAME}:"):
        job.requeue("MVidarr restarted during this job")
    reconcile(everything=True)


@periodic("prune_history", lambda: 3600, "{} old job(s) deleted")
def prune_history() -> int:
    """Delete jobs (and their logs) finished more than MVIDARR_HISTORY_DAYS ago."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_HISTORY_DAYS)
    old = Job.objects.finished().filter(finished_at__lt=cutoff, parent__isnull=True)
    return old.delete()[1].get("jobs.Job", 0)


def run_due() -> None:
    """Run every task whose time has come (or that was asked to run now); one
    query when none has."""
    states = ScheduledTask.objects.in_bulk(list(PERIODIC))
    for name, task in PERIODIC.items():
        now = timezone.now()
        if (state := states.get(name)) is None:
            state, _ = ScheduledTask.objects.get_or_create(
                name=name, defaults={"interval": task.every(), "next_run_at": now}
            )
        if not state.run_now and state.next_run_at > now:
            continue
        started = time.monotonic()
        try:
            outcome, ok = task.outcome.format(task.fn()), True
        except Exception as e:
            logger.exception("Scheduled task %s failed", name)
            outcome, ok = f"{type(e).__name__}: {e}", False
        ScheduledTask.objects.filter(name=name).update(
            interval=task.every(),
            last_started_at=now,
            last_duration=time.monotonic() - started,
            last_outcome=outcome[:500],
            last_ok=ok,
            last_run_by=WORKER_ID,
            run_now=False,
            next_run_at=timezone.now() + timedelta(seconds=task.every()),
        )


def run_forever(stop: threading.Event, lock: bool) -> None:
    client = _redis() if lock else None
    token = f"{time.time()}-{threading.get_ident()}"
    while not stop.wait(0.5):
        if client is not None and not _hold_lock(client, token):
            continue
        try:
            run_due()
        except Exception:
            logger.exception("The scheduler could not run its tasks")
        finally:
            close_old_connections()


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def _hold_lock(client, token: str) -> bool:
    """Take or extend the scheduler lock; False while another scheduler has it."""
    try:
        if client.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL):
            return True
        if client.get(LOCK_KEY) == token.encode():
            client.expire(LOCK_KEY, LOCK_TTL)
            return True
    except Exception:
        logger.warning("Scheduler cannot reach Redis", exc_info=True)
    return False


def start_thread() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop, False), name="scheduler", daemon=True).start()
    return stop
