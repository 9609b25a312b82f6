"""Starting the background machinery: Dramatiq workers (one per queue, with
that queue's concurrency), the worker beat, and the job forkserver."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dramatiq
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from dramatiq import Worker
from dramatiq.errors import QueueJoinTimeout, QueueNotFound

from jobs import actors, supervisor
from jobs.models import WORKER_ID, WorkerBeat

logger = logging.getLogger(__name__)
_beat_stop = threading.Event()


def _not_duplicate_middleware_warning(record: logging.LogRecord) -> bool:
    # One Worker per queue (each with its own concurrency) means one worker
    # middleware each on the shared broker; Dramatiq warns about that, harmlessly.
    return "same type twice" not in record.getMessage()


def start_workers() -> list[Worker]:
    broker = dramatiq.get_broker()
    logging.getLogger(f"dramatiq.broker.{type(broker).__name__}").addFilter(
        _not_duplicate_middleware_warning
    )
    actors.declare_all()
    workers = []
    for queue, threads in settings.QUEUE_CONCURRENCY.items():
        broker.declare_queue(queue)
        worker = Worker(
            broker,
            queues={queue},
            worker_threads=threads,
            worker_timeout=settings.DRAMATIQ_WORKER_TIMEOUT,
        )
        # Fetch no more than the threads can run (Dramatiq fetches twice that):
        # the messages a killed worker had fetched ahead stay in its Redis ack
        # set until Dramatiq notices the dead process (60 s, by chance), long
        # after the watchdog has moved the jobs it was running.
        worker.queue_prefetch = threads
        worker.start()
        workers.append(worker)
    threading.Thread(
        target=beat_forever, args=(_beat_stop,), name="worker-beat", daemon=True
    ).start()
    # Start the job forkserver (it preloads yt-dlp) now, not on the first job.
    threading.Thread(target=supervisor.start_forkserver, name="forkserver", daemon=True).start()
    logger.info(
        "Workers started: %s", ", ".join(f"{q}×{n}" for q, n in settings.QUEUE_CONCURRENCY.items())
    )
    return workers


def beat_forever(stop: threading.Event) -> None:
    """Tell the database this process is alive and which queues it serves;
    the watchdog takes back the jobs of a process that stopped beating."""
    name = WORKER_ID
    started = timezone.now()
    while True:
        try:
            WorkerBeat.objects.update_or_create(
                name=name,
                defaults={"queues": settings.QUEUE_CONCURRENCY, "seen_at": timezone.now()},
                create_defaults={"queues": settings.QUEUE_CONCURRENCY, "started_at": started},
            )
        except Exception:
            logger.warning("Could not record the worker heartbeat", exc_info=True)
        finally:
            close_old_connections()
        if stop.wait(settings.WORKER_BEAT_EVERY):
            WorkerBeat.objects.filter(name=name).delete()
            return


def stop_workers(workers: list[Worker], timeout_ms: int = 5000) -> None:
    supervisor.stopping.set()
    _beat_stop.set()
    # Each waits for its threads to see the stop (up to a poll timeout each):
    # together, so stopping takes the longest of them, not their sum.
    with ThreadPoolExecutor(max(1, len(workers)), thread_name_prefix="stop") as pool:
        list(pool.map(lambda worker: worker.stop(timeout=timeout_ms), workers))


def finish_held(timeout: float) -> None:
    """Embedded mode: wait, at most ``timeout`` seconds, until the workers of
    this process have run every message its in-memory broker holds (a
    download's thumbnails, after the download). What is left stays queued in
    the database for ``serve``."""
    broker = dramatiq.get_broker()
    deadline = time.monotonic() + timeout
    for queue in settings.QUEUE_CONCURRENCY:
        left = int((deadline - time.monotonic()) * 1000)
        with contextlib.suppress(QueueJoinTimeout, QueueNotFound):
            broker.join(queue, timeout=max(1, left), fail_fast=False)
