"""``manage.py download URL``: add a video (or a playlist) and follow its job
live in the terminal until it ends.

Exit status: 0 when the job succeeded, 1 when it failed (its error in plain
words on stderr), 130 after Ctrl-C cancelled it. With ``--detach`` Ctrl-C
leaves the job running instead, prints its id and exits 0. How the command
reaches the jobs in each mode is ``mvidarr.cli.reach``'s to say.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from jobs import terminal
from jobs.follow import Watch, follow
from jobs.kinds import Refused
from jobs.models import Job, Status
from mvidarr.cli import pick_user, reach
from videos.tasks import DownloadPlaylist, DownloadVideo

KINDS = {"video": DownloadVideo.name, "playlist": DownloadPlaylist.name}
INTERRUPTED = 130


class Command(BaseCommand):
    help = (
        "Download a video (with --kind playlist: every video of a playlist or feed), "
        "following it live."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url")
        parser.add_argument("--profile", help="A quality profile's name or id.")
        parser.add_argument("--user", help="Whose library (default: the only superuser).")
        parser.add_argument("--kind", choices=KINDS, default="video")
        parser.add_argument("--detach", action="store_true", help="Ctrl-C leaves the job running.")

    def handle(self, *args, url, profile, user, kind, detach, **options) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal, a stop: as Ctrl-C
            signal.signal(sig, _interrupt)
        owner = pick_user(user)
        data = {"url": url, **({"profile": profile} if profile else {})}
        out = terminal.console(stderr=True)
        with reach(owner) as jobs:
            try:
                job_id = jobs.control.start(owner, KINDS[kind], data)
            except Refused as e:
                raise CommandError(str(e)) from None
            self.stdout.write(f"Job {job_id}")
            self.stdout.flush()
            watch = Watch(job_id)
            try:
                with terminal.Board(out) as board:
                    follow(watch, jobs.source, board)
            except KeyboardInterrupt:
                if detach:
                    where = "waits for `serve`" if jobs.here else "keeps running"
                    self.stdout.write(f"Detached: job {job_id} {where}.")
                    return
                jobs.control.cancel(Job.objects.get(pk=job_id))
                out.print(f"Cancelled job {job_id}.")
                raise SystemExit(INTERRUPTED) from None
            jobs.finish()
        job = Job.objects.get(pk=job_id)
        if job.status != Status.SUCCEEDED:
            error = job.error or job.status
            if job.error_code == "playlist":
                error += " (add it with --kind playlist)"
            out.print(f"[red]Failed:[/] {terminal.escape(error)}")
            raise SystemExit(1)
        self.stdout.write(_summary(job))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _summary(job: Job) -> str:
    result = job.result or {}
    if job.kind == DownloadPlaylist.name:
        counts = job.children_counts()
        return f"Done: {counts[Status.SUCCEEDED]} of {counts['total']} video(s) downloaded."
    return f"Downloaded: {result.get('file') or job.label}"
