"""No-op job throughput, end to end: row created → claimed → finished.

``ping`` jobs do nothing, so this measures the job system itself: the submit
request, the broker, the claim, the log rows, the status events and the
final write. Jobs are submitted through the API by many clients at once; the
figures come from the job rows (created_at of the first to finished_at of the
last), read with ``manage.py shell`` in the app's own environment.

    .venv/bin/python -m bench.throughput [--mode embedded|redis|both] [--jobs 2000]
        [--clients 20] [--workers 2] [--threads 8]
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.common import machine, modes_of, parse_args, running, write_json

SUMMARY = """
import json
from django.db.models import Max, Min, Count
from jobs.models import Job
jobs = Job.objects.filter(kind="ping")
agg = jobs.aggregate(first=Min("created_at"), last=Max("finished_at"), n=Count("pk"))
done = jobs.filter(status="succeeded").count()
lat = sorted((j.finished_at - j.created_at).total_seconds() * 1000
             for j in jobs.filter(status="succeeded").only("created_at", "finished_at"))
print(json.dumps({"n": agg["n"], "done": done,
                  "span": (agg["last"] - agg["first"]).total_seconds() if done else None,
                  "lat": lat}))
"""


def submit_all(app, total: int, clients: int) -> tuple[float, dict[int, int]]:
    """Submit ``total`` ping jobs from ``clients`` threads; (seconds, status codes)."""
    codes: dict[int, int] = {}

    def one_client(n: int) -> None:
        with httpx.Client(base_url=app.base_url, headers={"X-Api-Key": app.keys["alice"]}) as c:
            for _ in range(n):
                code = c.post("/api/jobs", json={"kind": "ping"}, timeout=30).status_code
                codes[code] = codes.get(code, 0) + 1

    started = time.monotonic()
    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, share))
    return time.monotonic() - started, codes


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q / 100))] if values else float("nan")


def run(mode: str, total: int, clients: int, workers: int, threads: int) -> dict[str, Any]:
    env = {"MVIDARR_DEFAULT_CONCURRENCY": str(threads)}
    with running(mode, extra_env=env) as (app, _media):
        for n in range(2, workers + 1 if mode == "redis" else 1):
            app.start_process(f"worker{n}", "worker")
        time.sleep(1)
        submit_seconds, codes = submit_all(app, total, clients)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            summary = json.loads(app.manage("shell", "-c", SUMMARY).splitlines()[-1])
            if summary["done"] >= total:
                break
            time.sleep(1)
    lat = summary.pop("lat")
    result = {
        "mode": mode,
        "jobs": total,
        "done": summary["done"],
        "codes": codes,
        "workers": workers if mode == "redis" else 1,
        "threads": threads,
        "submits_per_s": round(total / submit_seconds, 1),
        "jobs_per_s": round(summary["done"] / summary["span"], 1) if summary["span"] else None,
        "created_to_finished_ms": {
            "p50": round(percentile(lat, 50), 1),
            "p99": round(percentile(lat, 99), 1),
        },
    }
    print(json.dumps(result), file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--jobs": {"type": int, "default": 2000},
            "--clients": {"type": int, "default": 20},
            "--workers": {"type": int, "default": 2, "help": "worker processes (redis mode)"},
            "--threads": {"type": int, "default": 8, "help": "default-queue threads per process"},
        },
    )
    results = [
        run(m, args.jobs, args.clients, args.workers, args.threads) for m in modes_of(args.mode)
    ]
    print(
        "| mode | workers × threads | jobs | submits/s | jobs/s | created→finished p50 / p99 (ms) |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        lat = r["created_to_finished_ms"]
        print(
            f"| {r['mode']} | {r['workers']} × {r['threads']} | {r['done']}/{r['jobs']} | "
            f"{r['submits_per_s']} | {r['jobs_per_s']} | {lat['p50']} / {lat['p99']} |"
        )
    write_json(args.json, {"machine": machine(), "results": results})
    return results


if __name__ == "__main__":
    main()
