"""Starting the background machinery: Dramatiq workers (one per queue, with
that queue's concurrency) and, in embedded mode, the scheduler thread."""

from __future__ import annotations

import logging

import dramatiq
from django.conf import settings
from dramatiq import Worker

logger = logging.getLogger(__name__)


def _not_duplicate_middleware_warning(record: logging.LogRecord) -> bool:
    # One Worker per queue (each with its own concurrency) means one worker
    # middleware each on the shared broker; Dramatiq warns about that, harmlessly.
    return "same type twice" not in record.getMessage()


def start_workers() -> list[Worker]:
    broker = dramatiq.get_broker()
    logging.getLogger(f"dramatiq.broker.{type(broker).__name__}").addFilter(
        _not_duplicate_middleware_warning
    )
    workers = []
    for queue, threads in settings.QUEUE_CONCURRENCY.items():
        worker = Worker(
            broker,
            queues={queue},
            worker_threads=threads,
            worker_timeout=settings.DRAMATIQ_WORKER_TIMEOUT,
        )
        worker.start()
        workers.append(worker)
    logger.info(
        "Workers started: %s", ", ".join(f"{q}×{n}" for q, n in settings.QUEUE_CONCURRENCY.items())
    )
    return workers


def stop_workers(workers: list[Worker], timeout_ms: int = 5000) -> None:
    for worker in workers:
        worker.stop(timeout=timeout_ms)
