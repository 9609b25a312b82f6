"""Periodic upkeep: find jobs whose worker died, and re-send queued jobs whose
broker message is gone. Runs as a thread in embedded mode and as the
``scheduler`` command in scaled mode, where a Redis lock keeps exactly one
scheduler active however many are started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import dramatiq
from django.conf import settings
from django.db import close_old_connections

from jobs.family import settle
from jobs.models import Job

logger = logging.getLogger(__name__)

WATCHDOG_EVERY = 15
RECONCILE_EVERY = 30
LOCK_KEY = "mvidarr:scheduler-lock"
LOCK_TTL = 30


def watchdog() -> int:
    """Requeue (or fail, when out of attempts) running jobs with a stale heartbeat."""
    count = 0
    for job in Job.objects.stale():
        if job.requeue("Worker stopped responding"):
            count += 1
    if count:
        logger.warning("Watchdog recovered %d job(s) from dead workers", count)
    # A parent is settled by its children; this catches one whose last child
    # finished on a worker that died before it could settle it.
    for parent_id in Job.objects.filter(
        status="running", is_parent=True, stage="waiting"
    ).values_list("pk", flat=True):
        settle(parent_id)
    return count


def reconcile(everything: bool = False) -> int:
    """Re-send queued jobs whose broker message is lost. The claim makes a
    needless re-send harmless; ``everything`` is for an embedded-mode start,
    where the in-memory broker began empty."""
    jobs = Job.objects.filter(status="queued") if everything else Job.objects.unclaimed()
    count = 0
    for job in jobs.iterator():
        if everything or not _in_broker(job):
            job.enqueue()
            count += 1
    if count:
        logger.info("Reconciler re-sent %d queued job(s)", count)
    return count


def _in_broker(job: Job) -> bool:
    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)
    if client is None or not job.message_id:
        return False
    ns = broker.namespace
    return any(
        client.hexists(f"{ns}:{queue}.msgs", job.message_id)
        for queue in (job.queue, f"{job.queue}.DQ")
    )


def recover_after_restart() -> None:
    """Embedded mode only: this process is the only worker, so anything this
    host left running died with the previous process."""
    from jobs.models import WORKER_NAME

    for job in Job.objects.filter(status="running", worker=WORKER_NAME):
        job.requeue("MVidarr restarted during this job")
    reconcile(everything=True)


def schedule() -> tuple[tuple[Callable[[], int], float], ...]:
    """Each task and its interval; checks run at least 3 times per threshold."""
    return (
        (watchdog, min(WATCHDOG_EVERY, settings.JOB_STALE_AFTER / 3)),
        (reconcile, min(RECONCILE_EVERY, settings.JOB_RESEND_AFTER / 2)),
    )


def run_forever(stop: threading.Event, lock: bool) -> None:
    client = _redis() if lock else None
    token = f"{time.time()}-{threading.get_ident()}"
    tasks = schedule()
    due = {fn: time.monotonic() + interval for fn, interval in tasks}
    while not stop.wait(0.5):
        if client is not None and not _hold_lock(client, token):
            continue
        for fn, interval in tasks:
            if time.monotonic() < due[fn]:
                continue
            due[fn] = time.monotonic() + interval
            try:
                fn()
            except Exception:
                logger.exception("Scheduled task %s failed", fn.__name__)
            finally:
                close_old_connections()


def _redis():
    import redis

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
