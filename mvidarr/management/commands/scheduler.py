from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.scheduler import run_forever

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run periodic upkeep (scaled mode). Only one of any number started is active."

    def handle(self, *args, **options) -> None:
        if settings.EMBEDDED:
            raise CommandError("Set REDIS_URL: in embedded mode `serve` runs the scheduler itself.")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        logger.info("Scheduler ready")
        run_forever(stop, lock=True)
