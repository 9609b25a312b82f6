from __future__ import annotations

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jobs import scheduler
from mvidarr.asgi import application
from mvidarr.runtime import start_workers, stop_workers


class Command(BaseCommand):
    help = "Run the web server; in embedded mode also the workers and the scheduler."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations first."
        )

    def handle(self, *args, host: str, port: int, no_migrate: bool, **options) -> None:
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        workers = []
        if settings.EMBEDDED:
            workers = start_workers()
            scheduler.recover_after_restart()
            scheduler.start_thread()
        mode = "embedded" if settings.EMBEDDED else "scaled"
        self.stdout.write(f"MVidarr ({mode} mode) listening on http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            websocket_timeout=-1,
            application_close_timeout=5,
        ).run()
        if workers:
            stop_workers(workers)
