"""Submit latency: how long ``POST /api/videos/{id}/download`` takes under load,
and how long a queued job waits before a free worker starts it.

1. Burst: ``--clients`` threads (20), each with its own keep-alive
   ``httpx.Client``, start together and each submit ``--per-client`` (20)
   downloads of pre-created videos, back to back (400 in all). The videos
   point at a throttled ``long.mp4`` (20 kB/s), so the jobs that get a worker
   keep downloading in the background while the rest wait in the queue.
   Reported: round-trip latency of every submit, p50/p95/p99/max, and the
   throughput. The jobs that were running at the end of the burst were
   claimed while workers were free: their ``started_at - created_at`` is
   reported as "burst queued→running".
2. Everything is cancelled and the app left to go idle.
3. Low load: ``--lowload`` (50) times, one submit with every worker idle,
   wait until the job runs, read ``created_at`` and ``started_at`` from
   ``GET /api/jobs/{id}``, cancel, wait half a second. Reported: the
   queued→running latency and, as a baseline, the single-client submit latency.

    .venv/bin/python -m bench.submit [--mode embedded|redis|both]
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

from bench.common import (
    PgConnections,
    ProcSampler,
    cancel_all,
    create_videos,
    fmt,
    log_errors,
    log_lines,
    modes_of,
    parse_args,
    parse_ts,
    running,
    summarize,
    unique_media_urls,
    wait_idle,
    write_json,
)

P50_MAX = ("p50", "max")
P50_P99_MAX = ("p50", "p99", "max")
MEDIA_PATH = "media/long.mp4?rate=20000"  # ~100 s per download: never finishes here


def burst(app, video_ids: list[int], clients: int, pace: float = 0.0) -> dict[str, Any]:
    """Each client submits its share back to back (``pace`` 0: closed loop), or
    one every ``pace`` seconds from a random offset (open loop)."""
    per_client = len(video_ids) // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client_thread(i: int) -> None:
        ids = video_ids[i * per_client : (i + 1) * per_client]
        with app.client("alice") as client:
            # Open the keep-alive connection and warm the authenticated path.
            client.get("/api/jobs", params={"limit": 1}).raise_for_status()
            barrier.wait(30)
            start = time.perf_counter() + random.uniform(0, pace)
            for k, video_id in enumerate(ids):
                if pace and (wait := start + k * pace - time.perf_counter()) > 0:
                    time.sleep(wait)
                t0 = time.perf_counter()
                try:
                    r = client.post(f"/api/videos/{video_id}/download")
                except Exception as e:  # noqa: BLE001 - reported, not raised
                    with lock:
                        errors.append(f"{type(e).__name__}: {e}")
                    continue
                latencies[i].append((time.perf_counter() - t0) * 1000)
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    roots = {name: proc.pid for name, proc in app.procs.items()}
    with ProcSampler(roots, tree=set()) as sampler, PgConnections(app) as pg:
        barrier.wait(30)
        t0 = time.perf_counter()
        for t in threads:
            t.join(300)
        wall = time.perf_counter() - t0
    flat = [x for per in latencies for x in per]
    return {
        "latency": summarize(flat),
        "status_codes": statuses,
        "errors": errors[:5],
        "error_count": len(errors),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(flat) / wall, 1) if wall else None,
        "processes": sampler.report(),
        "pg_connections": pg.report(),
    }


def started_while_free(client) -> dict[str, float]:
    """started_at - created_at of the jobs running now (the ones the idle
    workers picked up at the start of the burst)."""
    jobs = client.get("/api/jobs", params={"status": "running", "limit": 500}).json()
    waits = [
        (parse_ts(j["started_at"]) - parse_ts(j["created_at"])) * 1000
        for j in jobs
        if j["started_at"]
    ]
    return summarize(waits)


SEGMENTS = """
import json
from jobs.models import Job
rows = Job.objects.filter(pk__in=%r).values_list("created_at", "enqueued_at", "started_at")
print(json.dumps([[(e - c).total_seconds() * 1000, (s - e).total_seconds() * 1000]
                  for c, e, s in rows if c and e and s]))
"""


def segments(app, job_ids: list[str]) -> dict[str, Any]:
    """created_at → enqueued_at (the rest of the submit request: log row,
    video update, enqueued_at update, publish, broker send) and enqueued_at →
    started_at (broker delivery, idle consumer poll, claim), from the rows."""
    pairs = json.loads(app.manage("shell", "-c", SEGMENTS % (job_ids,)).splitlines()[-1])
    return {
        "created_to_enqueued": summarize([a for a, _ in pairs]),
        "enqueued_to_started": summarize([b for _, b in pairs]),
    }


def low_load(app, video_ids: list[int]) -> dict[str, Any]:
    submit_ms, q2r_ms, missed, job_ids = [], [], 0, []
    with app.client("alice") as client:
        client.get("/api/jobs", params={"limit": 1}).raise_for_status()
        for video_id in video_ids:
            t0 = time.perf_counter()
            r = client.post(f"/api/videos/{video_id}/download")
            submit_ms.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            job_id = r.json()["job_id"]
            job_ids.append(job_id)
            deadline = time.monotonic() + 10
            job = None
            while time.monotonic() < deadline:
                job = client.get(f"/api/jobs/{job_id}").json()
                if job["started_at"] or job["status"] not in ("queued", "running"):
                    break
                time.sleep(0.02)
            if job and job["started_at"]:
                q2r_ms.append((parse_ts(job["started_at"]) - parse_ts(job["created_at"])) * 1000)
            else:
                missed += 1
            client.post(f"/api/jobs/{job_id}/cancel")
            time.sleep(0.5)  # let the supervisor kill its child: workers idle again
    return {
        "submit": summarize(submit_ms),
        "queued_to_running": summarize(q2r_ms),
        "missed": missed,
        **segments(app, job_ids),
    }


def run(
    mode: str,
    clients: int = 20,
    per_client: int = 20,
    lowload: int = 50,
    paced: int = 10,
    pace: float = 1.0,
) -> dict[str, Any]:
    started = time.monotonic()
    with running(mode) as (app, media):
        n_burst = clients * per_client
        n_paced = clients * paced
        urls = unique_media_urls(media, MEDIA_PATH, n_burst + n_paced + lowload)
        ids = create_videos(app, urls)
        result: dict[str, Any] = {
            "mode": mode,
            "clients": clients,
            "per_client": per_client,
            "paced_per_client": paced,
            "pace_s": pace,
            "download_concurrency": int(os.environ.get("MVIDARR_DOWNLOAD_CONCURRENCY") or 3),
        }
        result["burst"] = burst(app, ids[:n_burst], clients)
        with app.client("alice") as client:
            result["burst"]["queued_to_running_while_free"] = started_while_free(client)
            result["cancelled"] = cancel_all(app)
            if not wait_idle(client):
                print("warning: the app did not go idle after the burst", file=sys.stderr)
            time.sleep(1.5)  # supervisors of cancelled jobs finish killing their children
            if paced:
                result["paced"] = burst(app, ids[n_burst : n_burst + n_paced], clients, pace)
                result["cancelled"] += cancel_all(app)
                wait_idle(client)
                time.sleep(1.5)
            result["low_load"] = low_load(app, ids[n_burst + n_paced :])
            result["cancelled"] += cancel_all(app)
        result["log_errors"] = log_errors(app)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def report(result: dict[str, Any]) -> str:
    b, low = result["burst"], result["low_load"]
    return "\n".join(
        [
            f"submit [{result['mode']}] {result['clients']} clients x {result['per_client']}:",
            f"  burst submit latency       {fmt(b['latency'])}",
            f"  burst throughput           {b['throughput_rps']} req/s,"
            f" status codes {b['status_codes']}"
            + (f", {b['error_count']} errors e.g. {b['errors'][:1]}" if b["error_count"] else ""),
            f"  burst queued->running      {fmt(b['queued_to_running_while_free'], P50_MAX)}",
            *(
                [
                    f"  paced submit ({1 / result['pace_s'] * result['clients']:g} req/s)"
                    f"   {fmt(result['paced']['latency'])}, codes {result['paced']['status_codes']}"
                ]
                if "paced" in result
                else []
            ),
            f"  single-client submit       {fmt(low['submit'])}",
            f"  low-load queued->running   {fmt(low['queued_to_running'])}"
            + (f", {low['missed']} never started within 10 s" if low["missed"] else ""),
            f"    created->enqueued        {fmt(low['created_to_enqueued'], P50_P99_MAX)}",
            f"    enqueued->started        {fmt(low['enqueued_to_started'], P50_P99_MAX)}",
            *_process_lines(b["processes"]),
            *(
                [f"  PostgreSQL connections     {b['pg_connections']}"]
                if b["pg_connections"]
                else []
            ),
            *log_lines(result["log_errors"]),
            f"  ({result['seconds']} s)",
        ]
    )


def _process_lines(procs: dict[str, Any]) -> list[str]:
    lines = []
    for key, p in procs.items():
        if key == "system":
            lines.append(
                f"  burst: machine {p['cpu_busy_pct_of_all_cores']}% busy over {p['seconds']} s"
            )
        elif p["cpu_mean"] or p["rss_max_mb"]:
            lines.append(f"  burst: {key:<16} CPU mean {p['cpu_mean']}% max {p['cpu_max']}%")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--clients": {"type": int, "default": 20},
            "--per-client": {"type": int, "default": 20},
            "--lowload": {"type": int, "default": 50},
            "--paced": {
                "type": int,
                "default": 10,
                "help": "open-loop phase: submits per client, one every --pace s (0: skip)",
            },
            "--pace": {"type": float, "default": 1.0},
        },
    )
    results = []
    for mode in modes_of(args.mode):
        result = run(mode, args.clients, args.per_client, args.lowload, args.paced, args.pace)
        print(report(result), flush=True)
        results.append(result)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
