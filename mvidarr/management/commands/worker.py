from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mvidarr.runtime import start_workers, stop_workers

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run Dramatiq workers for every queue (scaled mode; start as many as you like)."

    def handle(self, *args, **options) -> None:
        if settings.EMBEDDED:
            raise CommandError("Set REDIS_URL: in embedded mode `serve` runs the workers itself.")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        workers = start_workers()
        logger.info("Worker ready")
        stop.wait()
        stop_workers(workers)
