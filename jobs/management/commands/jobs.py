"""``manage.py jobs list|show|cancel|retry``: the jobs, from a terminal.

The operator sees every user's jobs (``--user`` narrows the list). Cancel and
retry go through the model's own methods, or through a running ``serve`` in
embedded mode (``mvidarr.cli.reach``), so pages hear of them as of any other.
"""

from __future__ import annotations

import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from jobs import terminal
from jobs.models import ALL, Job
from mvidarr.cli import pick_user, reach

LOG_TAIL = 20


class Command(BaseCommand):
    help = "List, show, cancel or retry jobs."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="Jobs, newest first.")
        listing.add_argument("--status", choices=ALL)
        listing.add_argument("--kind")
        listing.add_argument("--user", help="Only this user's jobs.")
        listing.add_argument("--limit", type=int, default=20)
        show = actions.add_parser("show", help="A job's fields, progress and the end of its log.")
        show.add_argument("job_id")
        show.add_argument("--log", type=int, default=LOG_TAIL, help="Log lines to show.")
        for name, words in (
            ("cancel", "Cancel a queued or running job."),
            ("retry", "Run a failed or cancelled job again, as a new job."),
        ):
            actions.add_parser(name, help=words).add_argument("job_id")

    def handle(self, *args, action: str, **options) -> None:
        self.out = terminal.console()
        getattr(self, f"_{action}")(**options)

    def _list(self, status, kind, user, limit, **_) -> None:
        jobs = Job.objects.select_related("owner")
        if user:
            jobs = jobs.filter(owner=pick_user(user))
        if status:
            jobs = jobs.filter(status=status)
        if kind:
            jobs = jobs.filter(kind=kind)
        rows = []
        for job in jobs.order_by("-created_at")[: max(1, limit)]:
            rows.append({**job.to_dict(), "owner": job.owner.username})
        if rows:
            self.out.print(terminal.jobs_table(rows))
        else:
            self.stderr.write("No jobs.")

    def _show(self, job_id, log, **_) -> None:
        job = _job(job_id)
        data = job.to_dict()
        progress = data.pop("progress")
        fields = [(k, v) for k, v in data.items() if v not in (None, "")]
        fields = [(k, json.dumps(v) if isinstance(v, dict) else v) for k, v in fields]
        fields.insert(fields.index(("status", job.status)) + 1, ("owner", job.owner.username))
        if job.percent is not None:
            fields.append(("percent", f"{job.percent:.1f}%"))
        for name in ("downloaded_bytes", "total_bytes"):
            if progress[name] is not None:
                fields.append((name, terminal.size(progress[name])))
        if progress["speed"]:
            fields.append(("speed", f"{terminal.size(progress['speed'])}/s"))
        if progress["eta"] is not None:
            fields.append(("eta", terminal.duration(progress["eta"])))
        for name in ("stage", "detail"):
            if progress[name]:
                fields.append((name, progress[name]))
        self.out.print(terminal.job_table(fields))
        lines = list(job.logs.order_by("-ts", "-id")[: max(0, log)])[::-1]
        if lines:
            self.out.print()
            self.out.print(terminal.log_table(line.to_dict() for line in lines))

    def _cancel(self, job_id, **_) -> None:
        job = _job(job_id)
        with reach(job.owner, run_here=False) as jobs:
            try:
                jobs.control.cancel(job)
            except ValueError as e:
                raise CommandError(str(e)) from None
        self.stdout.write(f"Cancelled job {job.pk}")

    def _retry(self, job_id, **_) -> None:
        job = _job(job_id)
        with reach(job.owner, run_here=False) as jobs:
            try:
                new = jobs.control.retry(job)
            except ValueError as e:
                raise CommandError(str(e)) from None
            if jobs.source is None:
                self.stderr.write("No server is running: the job waits until `serve` starts.")
        self.stdout.write(f"Retried as job {new}")


def _job(job_id: str) -> Job:
    try:
        pk = uuid.UUID(job_id)
    except ValueError:
        raise CommandError(f"No job {job_id!r}.") from None
    if job := Job.objects.select_related("owner").filter(pk=pk).first():
        return job
    raise CommandError(f"No job {job_id!r}.")
