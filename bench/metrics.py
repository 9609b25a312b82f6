"""What ``GET /metrics`` costs: a scrape with 10,000 jobs in the database, and
what counting the frames adds to the progress path.

1. **Scrape** (``--jobs`` 10,000): the real app (``LiveApp``, embedded on
   SQLite, Redis mode on PostgreSQL) with that many jobs inserted (70 %
   succeeded, the rest failed, cancelled, queued, running; three kinds, two
   queues), scraped ``--scrapes`` times one after another with the bearer
   token; ``GET /api/health`` the same number of times as the baseline of
   the HTTP path; the web process's CPU per request and, in Redis mode,
   PostgreSQL's for the grouped query. Twice: every finished job within the
   histogram's hour (the worst case: every row goes through the duration
   buckets), then the same jobs spread over 30 days of history (the usual case).
2. **Progress path**: the publisher in this process with the in-memory
   channel layer and one subscriber channel in both groups, fed ``--events``
   progress events for 50 jobs from another thread (as supervisors do), then
   a status event each; CPU time of the process per event, with the frame
   counters and without them (replaced by a no-op), alternately, ``--rounds``
   times. Twice: every event sent (no rate limit), and the real 250 ms limit
   (nearly all superseded). "With" includes one flush of the counters to
   Redis per run (scaled mode flushes once a second). Last, one count alone
   (``Counters.add``, a million times): the part of the ratio that noise
   cannot hide.

    .venv/bin/python -m bench.metrics [--mode embedded|redis|both] [--only scrape|progress]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from typing import Any

import httpx
from redis import asyncio as aioredis

from bench.common import fmt, machine, modes_of, parse_args, summarize, write_json
from bench.sampling import cpu_seconds
from tests.live import REDIS_URL, LiveApp

TOKEN = "bench-metrics-token"
SEED = """
import random
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from jobs.models import Job
random.seed(7)
owner = get_user_model().objects.get(username="staff")
now = timezone.now()
statuses = ["succeeded"] * 14 + ["failed"] * 3 + ["cancelled"] + ["queued"] + ["running"]
kinds = [("download_video", "video_downloads"), ("extract_video_info", "metadata"),
         ("ping", "default")]
jobs = []
for i in range(%d):
    status = random.choice(statuses)
    kind, queue = random.choice(kinds)
    started = now - timedelta(seconds=random.uniform(1, 3500))
    ran = timedelta(seconds=random.uniform(0.2, 600))
    done = status in ("succeeded", "failed", "cancelled")
    jobs.append(Job(kind=kind, queue=queue, owner=owner, status=status,
                    started_at=None if status == "queued" else started,
                    finished_at=min(started + ran, now) if done else None))
Job.objects.bulk_create(jobs, batch_size=1000)
print(Job.objects.count())
"""
SPREAD = """
import random
from datetime import timedelta
from jobs.models import Job
random.seed(8)
jobs = list(Job.objects.exclude(finished_at=None).only("pk", "started_at", "finished_at"))
for job in jobs:
    back = timedelta(days=random.uniform(0, 30))
    job.started_at -= back
    job.finished_at -= back
Job.objects.bulk_update(jobs, ["started_at", "finished_at"], batch_size=1000)
"""

# PostgreSQL runs the grouped query in its own process: its CPU per scrape,
# read from /proc for the backend of this connection.
DB_CPU = """
from django.db import connection
from django.utils import timezone
from bench.sampling import cpu_seconds
from jobs.metrics import job_rows
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
job_rows(timezone.now())
cpu0 = cpu_seconds(pid)
for _ in range(%d):
    job_rows(timezone.now())
print(round((cpu_seconds(pid) - cpu0) / %d * 1000, 1))
"""


def _timed_gets(url: str, n: int, headers: dict[str, str], server: int) -> dict[str, Any]:
    """Latency of ``n`` GETs one after another, and the CPU the web server
    process (pid ``server``) spent per request: on a shared machine the wall
    time mostly measures the wait for a core."""
    times = []
    with httpx.Client(headers=headers, timeout=30) as client:
        client.get(url).raise_for_status()  # warm: connections, caches
        cpu0 = cpu_seconds(server)
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
        cpu = cpu_seconds(server) - cpu0
    return {**summarize(times), "server_cpu_ms": round(cpu / n * 1000, 1)}


def scrape(mode: str, jobs: int, scrapes: int) -> dict[str, Any]:
    with LiveApp(mode, extra_env={"MVIDARR_METRICS_TOKEN": TOKEN}) as app:
        inserted = int(app.manage("shell", "-c", SEED % jobs).split()[-1])
        auth = {"Authorization": f"Bearer {TOKEN}"}
        size = len(httpx.get(f"{app.base_url}/metrics", headers=auth, timeout=30).content)
        result = {"mode": mode, "jobs": inserted, "bytes": size}
        web = app.procs["serve"].pid
        result["health"] = _timed_gets(f"{app.base_url}/api/health", scrapes, {}, web)
        result["recent"] = _timed_gets(f"{app.base_url}/metrics", scrapes, auth, web)
        if mode == "redis":
            result["recent"]["db_cpu_ms"] = float(
                app.manage("shell", "-c", DB_CPU % (20, 20)).split()[-1]
            )
        app.manage("shell", "-c", SPREAD)
        result["history"] = _timed_gets(f"{app.base_url}/metrics", scrapes, auth, web)
        if mode == "redis":
            result["history"]["db_cpu_ms"] = float(
                app.manage("shell", "-c", DB_CPU % (20, 20)).split()[-1]
            )
    return result


# -- the progress path ------------------------------------------------------------------


# Every publisher made, kept: its sender tasks live as long as it does (in the
# app there is one per process, for good).
_publishers: list = []


class _NoCounting:
    def add(self, name: str, n: int = 1) -> None:
        pass


def _setup_django() -> None:
    os.environ.setdefault("MVIDARR_DATA_DIR", tempfile.mkdtemp(prefix="mvidarr-bench-"))
    os.environ.pop("REDIS_URL", None)  # embedded settings: the in-memory layer
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvidarr.settings")
    # Django only for this part: the scrape part drives a separate app.
    import django

    django.setup()


def _one_run(
    publisher_module, loop, events: int, jobs: int, interval: float, redis_client
) -> float:
    """CPU seconds of this process for ``events`` progress events per job
    (and a status each) to go through a new publisher on ``loop`` into the layer."""
    publisher_module.MIN_INTERVAL = interval
    pub = publisher_module.Publisher()
    _publishers.append(pub)
    done = threading.Event()
    statuses = 0

    async def subscribe_and_drain() -> None:
        nonlocal statuses
        layer = pub._layer  # noqa: SLF001 - the layer the publisher sends to
        channel = await layer.new_channel()
        await layer.group_add(publisher_module.ALL_GROUP, channel)
        await layer.group_add(publisher_module.user_group(1), channel)
        while statuses < 2 * jobs:  # each event reaches the channel through both groups
            message = await layer.receive(channel)
            if message["frame"]["type"] == "status":
                statuses += 1
        await layer.group_discard(publisher_module.ALL_GROUP, channel)
        await layer.group_discard(publisher_module.user_group(1), channel)
        done.set()

    pub.bind_loop(loop)
    time.sleep(0.05)  # the publisher's senders start on the loop
    asyncio.run_coroutine_threadsafe(subscribe_and_drain(), loop)
    time.sleep(0.05)
    base = {"owner_id": 1, "subject": "", "kind": "download_video"}
    cpu0 = time.process_time()
    for i in range(events):
        for j in range(jobs):
            frame = {"type": "progress", "job_id": f"job-{j}", "percent": i / events * 100}
            pub.progress({**base, "frame": frame})
    for j in range(jobs):
        pub.status(
            {**base, "frame": {"type": "status", "job_id": f"job-{j}", "status": "succeeded"}}
        )
    done.wait(60)
    time.sleep(0.02)  # the senders count a frame just after the subscriber has it
    if redis_client is not None:
        asyncio.run_coroutine_threadsafe(publisher_module.frames.flush(redis_client), loop).result(
            10
        )
    return time.process_time() - cpu0


async def _cancel_all() -> None:
    """Stop the publishers' senders, so none is destroyed pending at exit."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def progress(events: int, rounds: int, jobs: int = 50) -> dict[str, Any]:
    _setup_django()
    # Only after django.setup(): the publisher reads the settings.
    from jobs import counters, publisher

    real = publisher.frames
    loop = asyncio.new_event_loop()  # one for every run: the web server's, in embedded mode
    threading.Thread(target=loop.run_forever, daemon=True).start()
    key = f"mvidarr:bench-frames:{os.getpid()}"
    redis_client = aioredis.Redis.from_url(REDIS_URL)  # long-lived, as the publisher's is
    results: dict[str, Any] = {"events_per_job": events, "jobs": jobs, "rounds": rounds}
    for label, interval in (("every event sent", 0.0), ("250 ms rate limit", 0.25)):
        cost: dict[str, list[float]] = {"with": [], "without": []}
        counted: dict[str, int] = {}
        for i in range(rounds):
            # Each goes first in every other round: a run pays for the last one's garbage.
            for variant in ("without", "with")[:: 1 if i % 2 else -1]:
                counting = counters.Counters(key) if variant == "with" else _NoCounting()
                publisher.frames = counting
                client = redis_client if variant == "with" else None
                cpu = _one_run(publisher, loop, events, jobs, interval, client)
                cost[variant].append(cpu / (events * jobs + jobs) * 1e6)
                if variant == "with":
                    counted = counting.local()
        with_, without = statistics.median(cost["with"]), statistics.median(cost["without"])
        results[label] = {
            "with_us_per_event": round(with_, 2),
            "without_us_per_event": round(without, 2),
            "ratio": round(with_ / without, 3),
            "all_with": [round(x, 2) for x in cost["with"]],
            "all_without": [round(x, 2) for x in cost["without"]],
            "counted": counted,
        }
    # The count itself, alone: what one event pays for it, whatever the noise.
    counting = counters.Counters(key)
    n = 1_000_000
    cpu0 = time.process_time()
    for _ in range(n):
        counting.add("sent:progress")
    results["add_us"] = round((time.process_time() - cpu0) / n * 1e6, 3)
    publisher.frames = real
    asyncio.run_coroutine_threadsafe(redis_client.delete(key), loop).result(10)
    asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(10)
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--only": {"choices": ["scrape", "progress"]},
            "--jobs": {"type": int, "default": 10_000},
            "--scrapes": {"type": int, "default": 50},
            "--events": {"type": int, "default": 400},
            "--rounds": {"type": int, "default": 7},
        },
    )
    out: dict[str, Any] = {"machine": machine()}
    print(f"machine: {out['machine']}")
    if args.only != "progress":
        out["scrape"] = []
        for mode in modes_of(args.mode):
            r = scrape(mode, args.jobs, args.scrapes)
            out["scrape"].append(r)
            print(f"scrape [{mode}] {r['jobs']} jobs, {r['bytes']} bytes:")
            for key, label in (
                ("health", "GET /api/health"),
                ("recent", "GET /metrics, all in the hour"),
                ("history", "GET /metrics, over 30 days"),
            ):
                db = f", PostgreSQL {r[key]['db_cpu_ms']} ms" if "db_cpu_ms" in r[key] else ""
                print(
                    f"  {label:<30} {fmt(r[key], ('p50', 'p95', 'max'))},"
                    f" CPU per request: web process {r[key]['server_cpu_ms']} ms{db}"
                )
    if args.only != "scrape":
        r = out["progress"] = progress(args.events, args.rounds)
        print(
            f"progress path, {r['jobs']} jobs x {r['events_per_job']} events, {r['rounds']} rounds:"
        )
        print(f"  one count (Counters.add) alone: {r['add_us']} us")
        for label in ("every event sent", "250 ms rate limit"):
            p = r[label]
            print(
                f"  {label:<18} with counting {p['with_us_per_event']} us/event,"
                f" without {p['without_us_per_event']} us/event, ratio {p['ratio']}"
                f"  (counted: {p['counted']})"
            )
    write_json(args.json, out)


if __name__ == "__main__":
    main()
