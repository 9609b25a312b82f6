"""Downloads while followed sources are checked on schedule: ``--downloads``
(10) throttled downloads alone, then the same again while ``--sources`` (100)
sources fall due, in one run of the app, side by side.

Each source is a feed of the local media server (3 entries, auto-download
off). All are followed and checked once before the measured part, so each
knows its feed's ETag; then all are made due at once, and ``--changed`` (10)
of them forget their validators, so their feeds are read in full (nothing new
in them), while the rest get a 304. The scheduler queues at most 20 checks
every 10 s on the ``metadata`` queue (2 at a time), so the checks run
during the downloads, which fetch ``long.mp4`` (2 MB) at 40 kB/s, about 50 s
each, all at once (``MVIDARR_DOWNLOAD_CONCURRENCY`` = downloads).

Measured for both phases, from alice's ``/ws/jobs/`` socket: the latency of
download progress frames (receipt - publish time), p50/p99, and the time
from submitting the downloads until the last one finished; for the checks,
how many ran during the downloads, what the feeds answered, and how long
the schedule took to check them all.

    .venv/bin/python -m bench.sources [--mode embedded|redis|both] [--sources 100]
        [--downloads 10] [--changed 10]
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    cancel_all,
    create_videos,
    fmt,
    log_errors,
    log_lines,
    machine,
    parse_args,
    run_modes,
    running,
    summarize,
    unique_media_urls,
)
from bench.frames import jobs_socket, latency_ms

DOWNLOAD = "media/long.mp4?rate=40000"
MAKE_DUE = """
from django.utils import timezone
from sources.models import Source
Source.objects.update(next_check_at=timezone.now())
changed = Source.objects.order_by("pk").values_list("pk", flat=True)[:%d]
Source.objects.filter(pk__in=list(changed)).update(etag="", last_modified="")
"""


def _checked_since(client, since: str) -> int:
    sources = client.get("/api/sources", params={"page_size": 1000}).json()["items"]
    return sum(1 for s in sources if (s["last_checked_at"] or "") > since)


def _downloads(app, media, client, frames, n: int, cap: float) -> dict[str, Any]:
    """Submit ``n`` downloads at once; their progress latency and the time to the last."""
    ids = create_videos(app, unique_media_urls(media, DOWNLOAD, n))
    t0 = time.monotonic()
    jobs = {client.post(f"/api/videos/{v}/download").json()["job_id"] for v in ids}
    frames.wait_finished(jobs, cap, interval=0.1)
    done_s = time.monotonic() - t0
    ours = frames.of_jobs(jobs)
    latency = latency_ms(ours, lambda f: f["type"] == "progress")
    done = sum(1 for _, f in ours if f["type"] == "status" and f.get("status") == "succeeded")
    return {"progress": summarize(latency), "done_s": round(done_s, 1), "done": done}


def run(mode: str, sources: int = 100, downloads: int = 10, changed: int = 10) -> dict:
    env = {"MVIDARR_DOWNLOAD_CONCURRENCY": str(downloads)}
    started = time.monotonic()
    with running(mode, extra_env=env) as (app, media), app.client("alice") as client:
        with jobs_socket(app) as frames:
            alone = _downloads(app, media, client, frames, downloads, cap=300)
        # Follow them all; each first check learns its feed's validators.
        t_follow = time.monotonic()
        keys = [f"bench-src-{i}-{int(started)}" for i in range(sources)]
        for key in keys:
            body = {"url": media.url(f"feed.xml?n=3&key={key}"), "auto_download": False}
            assert client.post("/api/sources", json=body).status_code == 201
        while _checked_since(client, "") < sources and time.monotonic() < t_follow + 600:
            time.sleep(0.5)
        first_checks_s = round(time.monotonic() - t_follow, 1)
        listed = client.get("/api/sources", params={"page_size": 1000}).json()["items"]
        mark = max(s["last_checked_at"] or "" for s in listed)
        app.manage("shell", "-c", MAKE_DUE % changed)
        t_due = time.monotonic()
        with jobs_socket(app) as frames:
            during = _downloads(app, media, client, frames, downloads, cap=300)
        checked_during = _checked_since(client, mark)
        while _checked_since(client, mark) < sources and time.monotonic() < t_due + 600:
            time.sleep(0.5)
        all_checked_s = round(time.monotonic() - t_due, 1)
        answers: dict[int, int] = {}
        for key in keys:
            for code, n in media.statuses(key).items():
                answers[code] = answers.get(code, 0) + n
        cancelled = cancel_all(app)
        errors = log_errors(app)
    return {
        "mode": mode,
        "sources": sources,
        "downloads": downloads,
        "changed": changed,
        "alone": alone,
        "during": during,
        "first_checks_s": first_checks_s,
        "checked_during_downloads": checked_during,
        "all_checked_s": all_checked_s,
        "feed_answers": answers,
        "cancelled_at_end": cancelled,
        "log_errors": errors,
        "machine": machine(),
        "seconds": round(time.monotonic() - started, 1),
    }


def report(result: dict[str, Any]) -> str:
    keys = ("p50", "p99", "max")
    alone, during = result["alone"], result["during"]
    lines = [
        f"sources [{result['mode']}] {result['downloads']} downloads at 40 kB/s,"
        f" alone and while {result['sources']} sources are checked on schedule",
        f"  alone   progress {fmt(alone['progress'], keys)};"
        f" {alone['done']} done in {alone['done_s']} s",
        f"  checks  progress {fmt(during['progress'], keys)};"
        f" {during['done']} done in {during['done_s']} s",
        f"  checks: {result['checked_during_downloads']} of {result['sources']} during the"
        f" downloads, all in {result['all_checked_s']} s; feeds answered"
        f" {result['feed_answers']} (first checks included: {result['first_checks_s']} s)",
        f"  machine {result['machine']['nproc']} cores {result['machine']['cpu_model']},"
        f" load {' '.join(result['machine']['loadavg'])}",
    ]
    lines += log_lines(result["log_errors"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--sources": {"type": int, "default": 100},
            "--downloads": {"type": int, "default": 10},
            "--changed": {"type": int, "default": 10},
        },
    )
    run_modes(args, lambda mode: run(mode, args.sources, args.downloads, args.changed), report)


if __name__ == "__main__":
    main()
