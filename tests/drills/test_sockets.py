"""Drills on the WebSockets of ``serve`` (scaled mode): serve restarted under
open sockets, a client that never reads, and 10,000 connect/disconnect cycles."""

from __future__ import annotations

import asyncio
import json
import os
import time

import redis
from websockets.asyncio.client import connect

from jobs.status import ACTIVE
from tests.apikit import finished, job_of, rss_mb, submit_download, unique, wait_for
from tests.drillkit import FrameLog, SilentSocket, open_files, percentile, start_slow_download

CYCLES = int(os.environ.get("MVIDARR_DRILL_CYCLES", "10000"))
CONCURRENT_CLIENTS = 4
# daphne pings every 20 s and drops a socket whose pong has not come 30 s later.
DROP_BOUND = 20 + 30 + 10


def test_restarting_serve_closes_sockets_with_1001_or_1006_and_a_reconnect_gets_the_true_state(
    scaled_app, media, figures
):
    app = scaled_app
    client = app.client("alice")
    _, job_id = start_slow_download(app, media, rate=120000)  # ~16 s
    sockets = [FrameLog(app) for _ in range(3)]
    wait_for(lambda: all(s.frames for s in sockets), timeout=10)
    stopped = time.monotonic()
    app.stop_process("serve")
    wait_for(lambda: all(s.closed for s in sockets), timeout=10)
    app.start_serve()
    app.wait_healthy()
    back = time.monotonic() - stopped
    again = FrameLog(app)
    snapshot = wait_for(lambda: again.frames and again.frames[0][1], timeout=10)
    truth = job_of(client, job_id)["status"]
    seen = {j["id"]: j["status"] for j in snapshot["jobs"]}
    job = finished(client, job_id, timeout=60)

    def final_status():  # the frame may follow the API's answer by a moment
        statuses = [frame["status"] for _, frame in again.of({job_id}, "status")]
        return statuses if statuses or truth not in ACTIVE else None

    statuses = wait_for(final_status, timeout=10) if truth in ACTIVE else []
    again.close()
    codes = sorted({int(s.closed) for s in sockets})
    figures(f"3 sockets closed with {codes}; serve answered again {back:.1f} s after the stop")
    figures(
        f"the reconnected socket's snapshot: {seen.get(job_id, 'absent')} (API: {truth}); "
        f"then {statuses}, job {job['status']} after {job['attempts']} attempt"
    )
    assert set(codes) <= {1001, 1006}
    assert snapshot["type"] == "snapshot"
    assert seen.get(job_id) == truth if truth in ACTIVE else job_id not in seen
    assert job["status"] == "succeeded" and job["attempts"] == 1
    if truth == "running":
        assert statuses == ["succeeded"]


def test_a_client_that_never_reads_is_dropped_while_serve_memory_stays_bounded_and_others_keep_up(
    scaled_app, media, figures
):
    app = scaled_app
    client = app.client("alice")
    serve = app.procs["serve"].pid
    normal = FrameLog(app)
    silent = SilentSocket(app, "alice")
    opened = time.monotonic()
    before = peak = rss_mb(serve)
    rate = 30000  # long.mp4 takes ~66 s: past the drop
    jobs = [
        submit_download(client, media.url(unique(f"media/long.mp4?rate={rate}"))) for _ in range(20)
    ]
    dropped = None
    deadline = opened + 150
    while time.monotonic() < deadline:
        peak = max(peak, rss_mb(serve))
        if dropped is None and not silent.connected():
            dropped = time.monotonic() - opened
        if all(job_of(client, job_id)["status"] not in ACTIVE for job_id in jobs):
            break
        time.sleep(1)
    after = rss_mb(serve)
    done = [job_of(client, job_id)["status"] for job_id in jobs]
    frames = normal.of(set(jobs), "progress")
    latencies = [received - frame["ts"] for received, frame in frames]
    normal.close()
    silent.close()
    figures(
        f"20 downloads, {len(frames)} progress frames to a normal client, latency "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    figures(
        f"the silent client dropped {dropped:.0f} s after it stopped reading"
        if dropped is not None
        else "the silent client was never dropped"
    )
    figures(f"serve RSS {before} → {after} MB (peak {peak} MB)")
    assert done == ["succeeded"] * 20, done
    assert dropped is not None and dropped < DROP_BOUND
    assert peak - before < 64
    assert percentile(latencies, 0.99) < 2.0


async def _cycles(app, n: int) -> None:
    url, headers = f"{app.ws_url}/ws/jobs/", app.ws_headers("bob")

    async def one_client(count: int) -> None:
        for _ in range(count):
            async with connect(url, additional_headers=headers) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await ws.recv()) == {"type": "pong"}

    await asyncio.gather(*(one_client(n // CONCURRENT_CLIENTS) for _ in range(CONCURRENT_CLIENTS)))


def test_ten_thousand_socket_cycles_leave_memory_open_files_and_redis_keys_at_baseline(
    scaled_app, figures
):
    app = scaled_app
    serve = app.procs["serve"].pid
    store = redis.Redis.from_url(app.env["REDIS_URL"])

    def measure() -> tuple[int, int, int]:
        time.sleep(2)  # the last disconnects are handled
        return rss_mb(serve), open_files(serve), store.dbsize()

    asyncio.run(_cycles(app, 400))  # warm up: caches, pools, the first allocations
    rss0, files0, keys0 = measure()
    started = time.monotonic()
    steps = []  # RSS after each fifth of the cycles: a leak climbs, a plateau does not
    for _ in range(5):
        asyncio.run(_cycles(app, CYCLES // 5))
        steps.append(rss_mb(serve))
    took = time.monotonic() - started
    rss1, files1, keys1 = measure()
    figures(
        f"{CYCLES} cycles by {CONCURRENT_CLIENTS} clients in {took:.0f} s "
        f"({CYCLES / took:.0f}/s); RSS {rss0} → {' → '.join(map(str, steps))} → {rss1} MB, "
        f"open files {files0} → {files1}, Redis keys {keys0} → {keys1}"
    )
    assert rss1 - rss0 <= 16
    assert steps[-1] - steps[1] <= 4  # flat after the first fifth: nothing kept per socket
    # The database pool and Redis connections may grow by a few with the
    # concurrency; anything kept per socket would show in the thousands.
    assert files1 - files0 <= 8
    assert keys1 - keys0 <= 2
