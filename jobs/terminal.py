"""Jobs in a terminal: the live bars of ``manage.py download`` and the tables
of ``manage.py jobs``. The only module that imports rich.

It knows jobs only as the plain dicts ``jobs.follow.Watch`` keeps (a job's
label, status, progress fields and, for a parent, its children's counts), so
it shows a job the same whichever way its state arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Column, Table
from rich.text import Text

from jobs.status import Status

PIPE_WIDTH = 200
LABEL_WIDTH = 40

# How a status looks in tables and next to a bar.
STYLES = {
    Status.QUEUED: "yellow",
    Status.RUNNING: "cyan",
    Status.SUCCEEDED: "green",
    Status.FAILED: "red",
    Status.CANCELLED: "magenta",
}


def console(stderr: bool = False) -> Console:
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out.width = PIPE_WIDTH  # a script reading the tables gets whole rows
    return out


def size(n: float | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def status_text(status: str) -> Text:
    return Text(status, style=STYLES.get(status, ""))


class Board:
    """The live bars: the followed job first (a parent's bar counts its
    children done of all), then one bar per running child."""

    def __init__(self, out: Console) -> None:
        self.progress = Progress(
            TextColumn(
                "{task.description}",
                table_column=Column(max_width=LABEL_WIDTH, no_wrap=True, overflow="ellipsis"),
            ),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[amount]}", justify="right"),
            TextColumn("{task.fields[speed]}", justify="right"),
            TextColumn("{task.fields[eta]}"),
            TextColumn("{task.fields[stage]}"),
            console=out,
            refresh_per_second=8,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Board:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def show(self, jobs: Mapping[str, Mapping[str, Any]]) -> None:
        """Draw these jobs (``{id: state}``, the followed one first); bars of
        jobs no longer listed go."""
        for job_id in [j for j in self.tasks if j not in jobs]:
            self.progress.remove_task(self.tasks.pop(job_id))
        for index, (job_id, state) in enumerate(jobs.items()):
            fields = _bar(state, child=index > 0)
            if job_id in self.tasks:
                self.progress.update(self.tasks[job_id], **fields)
            else:
                self.tasks[job_id] = self.progress.add_task(**fields)


def _bar(state: Mapping[str, Any], child: bool) -> dict[str, Any]:
    label = escape(state.get("label") or state.get("kind") or "")
    status = state["status"]
    stage = state.get("stage") or ""
    what = status if status != Status.RUNNING or not stage else stage
    fields = {
        "description": ("  " if child else "") + label,
        "speed": "",
        "eta": "",
        "stage": f"[{STYLES[status]}]{escape(what)}[/]" if status in STYLES else escape(what),
    }
    if counts := state.get("children"):
        done = counts["total"] - counts[Status.QUEUED] - counts[Status.RUNNING]
        failed = f", {counts[Status.FAILED]} failed" if counts[Status.FAILED] else ""
        total = counts["total"] or None
        amount = f"{done}/{counts['total']} done{failed}"
        return {**fields, "completed": done, "total": total, "amount": amount}
    percent = state.get("percent")
    if status == Status.SUCCEEDED:
        percent = 100.0
    fields["amount"] = f"{percent:5.1f}%" if percent is not None else ""
    if status == Status.RUNNING:
        fields["speed"] = f"{size(state.get('speed'))}/s" if state.get("speed") else ""
        eta = state.get("eta")
        fields["eta"] = f"ETA {duration(eta)}" if eta is not None else ""
    # An unknown total (queued, or no size known yet) pulses.
    total = 100.0 if percent is not None else None
    return {**fields, "completed": percent or 0.0, "total": total}


def jobs_table(rows: Iterable[Mapping[str, Any]]) -> Table:
    """``manage.py jobs list``: one row per job, newest first."""
    table = Table(box=None, pad_edge=False)
    for name in ("id", "kind", "status", "progress", "label", "owner", "created"):
        if name == "label":
            table.add_column(name, overflow="ellipsis", no_wrap=True, min_width=10)
        else:
            table.add_column(name, no_wrap=True)
    for row in rows:
        progress = row["progress"]
        if row.get("children"):
            c = row["children"]
            done = c["total"] - c[Status.QUEUED] - c[Status.RUNNING]
            shown = f"{done}/{c['total']}"
        elif progress["percent"] is not None:
            shown = f"{progress['percent']:.0f}%"
        else:
            shown = ""
        if row["status"] == Status.RUNNING and progress["stage"]:
            shown = f"{shown} {progress['stage']}".strip()
        created = row["created_at"].strftime("%Y-%m-%d %H:%M:%S")
        cells = (row["id"], row["kind"], shown, row["label"], row["owner"], created)
        table.add_row(*map(Text, cells[:2]), status_text(row["status"]), *map(Text, cells[2:]))
    return table


def job_table(fields: Iterable[tuple[str, Any]]) -> Table:
    """``manage.py jobs show``: one field a line."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, status_text(value) if name == "status" else Text(str(value)))
    return table


def log_table(lines: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(no_wrap=True, style="dim")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    levels = {"error": "red", "warning": "yellow"}
    for line in lines:
        level = line["level"]
        table.add_row(
            line["ts"].strftime("%H:%M:%S"),
            Text(level, style=levels.get(level, "")),
            Text(line["message"]),
        )
    return table
