"""Several hosts, for real: MVidarr spread over Linux network namespaces.

``data`` runs Redis and PostgreSQL, ``web`` runs ``serve`` and ``scheduler``,
``w1`` and ``w2`` run a ``worker`` each and ``media`` the local media server;
each reaches the others only over its veth (tests/netnskit.py). The library
and scratch space are one shared directory, as a shared volume would be.
30 throttled downloads run; every process of ``w1`` is killed mid-run; all 30
must finish exactly once, and ``w1``'s jobs must move within the recovery
bound. Run with ``make drills``, or alone with ``make multihost`` (needs root);
the figures are printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from jobs.scheduler import PERIODIC
from jobs.status import ACTIVE
from tests.apikit import METRICS_TOKEN, scrape, submit_download, wait_for
from tests.media import MediaServer
from tests.netnskit import Deployment, Hosts, skip_reason, start_postgres, start_redis

pytestmark = [
    pytest.mark.multihost,
    pytest.mark.live,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

DOWNLOADS = 30
RATE = 60_000  # bytes/s: clip.mp4 (~360 kB) takes about 6 s
JOBS = (
    "SELECT id::text, status, worker, attempts, downloaded_bytes FROM jobs_job"
    " WHERE kind = 'download_video'"
)


@pytest.fixture(scope="module")
def site():
    """The five hosts with everything started; torn down whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix="mvidarr-hosts-"))
    workdir.chmod(0o711)  # the postgres user reaches its cluster inside
    try:
        with Hosts("data", "web", "w1", "w2", "media") as hosts, contextlib.ExitStack() as stack:
            redis_url = start_redis(hosts, "data", workdir)
            database_url = start_postgres(hosts, "data", workdir)
            media = MediaServer(
                host=hosts.address("media"), port=8080, wrapper=hosts.command("media")
            )
            stack.enter_context(media)
            app = Deployment(
                hosts,
                workdir,
                {
                    "REDIS_URL": redis_url,
                    "DATABASE_URL": database_url,
                    "SECRET_KEY": "multihost-" + uuid.uuid4().hex * 2,
                    "ALLOWED_HOSTS": hosts.address("web"),
                    "MVIDARR_ALLOW_PRIVATE_URLS": "false",
                    "MVIDARR_ALLOWED_NETWORKS": f"{hosts.address('media')}/32",
                    "MVIDARR_METRICS_TOKEN": METRICS_TOKEN,
                },
            )
            app.seed("web")
            app.serve("web")
            app.start("web", "scheduler", "scheduler")
            app.start("w1", "worker-w1", "worker")
            app.start("w2", "worker-w2", "worker")
            wait_for(lambda: scrape(app)[("mvidarr_workers_alive", ())] == 2)
            app.media = media
            app.database_url = database_url
            app.redis_url = redis_url
            yield app
    finally:
        if os.environ.get("MVIDARR_KEEP_HOSTS_DIR"):
            print(f"Logs and data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def jobs(app) -> dict[str, dict]:
    with psycopg.connect(app.database_url) as conn:
        rows = conn.execute(JOBS).fetchall()
    names = ("status", "worker", "attempts", "downloaded_bytes")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def fetched(app) -> dict[str, set[str]]:
    """Per Dramatiq broker (one per process): the job ids of the download
    messages it has fetched and not acknowledged (its Redis ack set)."""
    client = redis.Redis.from_url(app.redis_url, decode_responses=True)
    bodies = client.hgetall("dramatiq:video_downloads.msgs")
    return {
        key: {json.loads(bodies[m])["args"][0] for m in client.smembers(key) if m in bodies}
        for key in client.scan_iter("dramatiq:__acks__.*.video_downloads")
    }


def seconds(times: dict[str, float]) -> str:
    return ", ".join(f"{t:.1f}" for t in sorted(times.values())) or "-"


def on_host(job: dict, host: str) -> bool:
    return job["status"] == "running" and job["worker"].startswith(f"ns-{host}:")


def test_thirty_downloads_finish_exactly_once_when_a_worker_host_dies(site):
    client = site.client("alice")
    keys = [uuid.uuid4().hex for _ in range(DOWNLOADS)]
    started = time.monotonic()
    job_ids = [
        submit_download(client, site.media.url(f"media/clip.mp4?rate={RATE}&key={key}"))
        for key in keys
    ]

    # The autoscaling signal while the backlog is there: the queue depth
    # from /metrics and the Redis list a queue-length scaler reads.
    samples = scrape(site)
    depth = samples[("mvidarr_queue_depth", (("queue", "video_downloads"),))]
    listed = samples[("mvidarr_broker_messages", (("queue", "video_downloads"),))]
    length = redis.Redis.from_url(site.redis_url).llen("dramatiq:video_downloads")

    # Mid-run: some downloads done, w1 in the middle of others.
    def w1_busy():
        now = jobs(site)
        done = sum(job["status"] == "succeeded" for job in now.values())
        moving = [id for id, job in now.items() if on_host(job, "w1") and job["downloaded_bytes"]]
        return moving if done >= 3 and len(moving) >= 2 else None

    wait_for(w1_busy, timeout=60, interval=0.1)
    killed_processes = site.hosts.kill("w1")
    killed = time.monotonic()
    on_w1 = [id for id, job in jobs(site).items() if on_host(job, "w1")]
    # The messages w1 had fetched ahead (up to twice its threads) went down with it.
    ahead = set().union(*(ids for ids in fetched(site).values() if ids & set(on_w1))) - set(on_w1)
    moved: dict[str, float] = {}
    started_elsewhere: dict[str, float] = {}

    def all_moved():
        for id, job in jobs(site).items():
            if id in on_w1 and id not in moved and not on_host(job, "w1"):
                moved[id] = time.monotonic() - killed
            if id in ahead and id not in started_elsewhere and job["status"] != "queued":
                started_elsewhere[id] = time.monotonic() - killed
        return len(moved) == len(on_w1) and len(started_elsewhere) == len(ahead)

    bound = settings.WORKER_DEAD_AFTER + PERIODIC["watchdog"].every()
    wait_for(all_moved, timeout=bound + 120, interval=0.1)

    def all_finished():
        now = jobs(site)
        return None if any(job["status"] in ACTIVE for job in now.values()) else now

    final = wait_for(all_finished, timeout=180, interval=0.5)
    elapsed = time.monotonic() - started
    videos = client.get("/api/videos", params={"page_size": 1000}).json()["items"]
    recorded = {site.data_dir / "library" / video["file"] for video in videos if video["file"]}
    orphans = set((site.data_dir / "library").rglob("*.mp4")) - recorded
    completed = {key: site.media.completed(key) for key in keys}
    requests = {key: site.media.stats(key) for key in keys}
    print(
        f"\n{DOWNLOADS} downloads at {RATE // 1000} kB/s on 2 worker hosts: {elapsed:.1f} s;"
        f" killed {killed_processes} processes on w1 with {len(on_w1)} downloads running;"
        f" moved after {seconds(moved)} s (bound {bound:g} s); {len(ahead)} fetched ahead"
        f" by w1 started after {seconds(started_elsewhere)} s; at submit:"
        f" mvidarr_queue_depth {depth:g}, mvidarr_broker_messages {listed:g},"
        f" LLEN dramatiq:video_downloads {length}; requests per download"
        f" {min(requests.values())}-{max(requests.values())}; files left unrecorded {len(orphans)}"
    )
    assert [job["status"] for job in final.values()] == ["succeeded"] * DOWNLOADS, final
    size = (site.media.cache / "clip.mp4").stat().st_size
    assert len(recorded) == DOWNLOADS and {f.stat().st_size for f in recorded} == {size}
    # Fetched to the end at least once, and at most once per attempt.
    for key, job_id in zip(keys, job_ids, strict=True):
        assert 1 <= completed[key] <= final[job_id]["attempts"], (key, final[job_id])
    assert sorted(final[id]["attempts"] for id in on_w1) == [2] * len(on_w1)
    assert sum(job["attempts"] for job in final.values()) == DOWNLOADS + len(on_w1)
    assert max(moved.values()) <= bound
    assert max(started_elsewhere.values(), default=0) <= bound
    assert depth > 0 and length > 0
    # Not even a download w1 filed just before it was killed and never recorded.
    assert not orphans, orphans
