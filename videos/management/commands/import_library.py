from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jobs.models import Job, Status
from jobs.supervisor import run_attempt
from mvidarr.cli import pick_user
from videos.importing import start_import


class Command(BaseCommand):
    help = (
        "Import the video files under PATH into a user's library, as one job: "
        "copied in (hard links where possible), or moved with --move. "
        "Files already in the library are skipped, so running it again imports nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--user", help="Whose library (default: the only superuser).")
        parser.add_argument(
            "--move", action="store_true", help="Move the files instead of copying."
        )

    def handle(self, *args, path: str, user: str | None, move: bool, **options) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise CommandError(f"Not a folder: {folder}")
        job, created = start_import(pick_user(user), folder, move)
        self.stdout.write(f"Import job {job.pk}" + ("" if created else " (already running)"))
        # Here, unless a worker claimed it first (then this only follows it).
        run_attempt(str(job.pk))
        while (job := Job.objects.get(pk=job.pk)).is_active:
            time.sleep(0.5)
        if job.status != Status.SUCCEEDED:
            raise CommandError(f"Import {job.status}: {job.error or 'see the job log'}")
        result = job.result or {}
        self.stdout.write(
            f"Imported {result['imported']} of {result['files']} file(s): "
            f"{result['known']} already in the library, {result['not_videos']} not videos."
        )
