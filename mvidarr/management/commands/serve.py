"""``manage.py serve``: the web server (daphne).

In embedded mode it also runs the workers and the scheduler, and stays one
process. In scaled mode ``--processes N`` runs N web processes on one port:
this process starts N-1 more, and each listens on the port with
``SO_REUSEPORT``, so the kernel spreads new connections evenly over them
(one shared listening socket would hand nearly all of them to whichever
process happens to wake first). The others stop with the first.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from jobs import scheduler
from mvidarr import serving
from mvidarr.asgi import application
from mvidarr.runtime import start_workers, stop_workers

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the web server; in embedded mode also the workers and the scheduler."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--processes", type=int, default=1, help="web processes on the port (scaled mode)"
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations first."
        )
        # One of the processes that --processes starts.
        parser.add_argument("--sibling", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, host: str, port: int, processes: int, no_migrate: bool, sibling, **_):
        if processes < 1:
            raise CommandError("--processes must be at least 1.")
        if processes > 1 and settings.EMBEDDED:
            raise CommandError(
                "Embedded mode runs the workers inside the one web process: set REDIS_URL "
                "to run several web processes."
            )
        if not no_migrate and not sibling:
            call_command("migrate", interactive=False, verbosity=0)
        workers = []
        if settings.EMBEDDED:
            workers = start_workers()
            scheduler.recover_after_restart()
            scheduler.start_thread()
        children: list[subprocess.Popen] = []
        if sibling:
            threading.Thread(target=_stop_with_parent, daemon=True).start()
        if sibling or processes > 1:
            listener = _listen(host, port)  # kept open while the server runs
            endpoints = [f"fd:fileno={listener.fileno()}"]
            children = [_spawn(host, port) for _ in range(processes - 1)]
        else:
            endpoints = build_endpoint_description_strings(host=host, port=port)
        if not sibling:
            mode = "embedded" if settings.EMBEDDED else "scaled"
            where = f"http://{host}:{port}/" + (f" ({processes} processes)" if children else "")
            logger.info("MVidarr (%s mode) listening on %s", mode, where)
        if settings.EMBEDDED:
            # Commands of this data dir (download, jobs) ask this process.
            serving.announce(host, port)
        try:
            Server(
                application=application,
                endpoints=endpoints,
                signal_handlers=True,
                websocket_timeout=-1,
                application_close_timeout=5,
            ).run()
        finally:
            for child in children:
                child.terminate()
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(10)
            if workers:
                serving.withdraw()
                stop_workers(workers)


def _listen(host: str, port: int) -> socket.socket:
    if ":" in host:
        # Twisted's "fd:" endpoint adopts IPv4 sockets only.
        raise CommandError("--processes needs an IPv4 --host (e.g. 0.0.0.0).")
    return socket.create_server((host, port), backlog=1024, reuse_port=True)


def _stop_with_parent() -> None:
    """A sibling whose first process died (even by SIGKILL) stops too."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _spawn(host: str, port: int) -> subprocess.Popen:
    manage = str(settings.BASE_DIR / "manage.py")
    args = ["serve", "--host", host, "--port", str(port), "--sibling", "--no-migrate"]
    return subprocess.Popen([sys.executable, manage, *args])
