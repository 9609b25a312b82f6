"""``GET /metrics`` of a running app matches what really happened, in embedded
mode and in scaled mode (web, worker and scheduler processes, Redis,
PostgreSQL): jobs, durations, frames, sockets, queue depth, workers."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from websockets.sync.client import connect

from jobs.metrics import BUCKETS
from tests.apikit import add_video, finished, scrape, submit_download, unique, wait_for
from tests.live import LiveApp


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def frames_sent(samples: dict) -> dict[str, float]:
    return {
        t: value(samples, "mvidarr_progress_frames_sent_total", type=t)
        for t in ("progress", "status")
    }


class Frames(threading.Thread):
    """Counts the frames a socket subscribed to all jobs receives, by type."""

    def __init__(self, ws) -> None:
        super().__init__(daemon=True)
        self.ws, self.counts, self.stop = ws, Counter(), threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.counts[json.loads(self.ws.recv(0.2))["type"]] += 1
            except TimeoutError:
                continue
            except Exception:  # the socket closed: the test is over
                return


@contextlib.contextmanager
def subscribed(app: LiveApp, user: str):
    """A socket of ``user`` subscribed to all their jobs, past its snapshot."""
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers(user)) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        assert json.loads(ws.recv(10))["type"] == "snapshot"
        yield ws


def settled(app: LiveApp, receiver: Frames) -> tuple[dict, Counter]:
    """The frames sent and those ``receiver`` got, once neither has moved for
    a while (in scaled mode each process adds its counts to Redis once a
    second): frames of an earlier test's jobs that were still on their way
    are then counted on both sides."""
    last: list = [None]

    def still():
        now = (frames_sent(scrape(app)), Counter(receiver.counts))
        same, last[0] = now == last[0], now
        return now if same else None

    return wait_for(still, timeout=20, interval=1.5)


def test_the_metrics_match_the_jobs_that_ran(ops_app, media):
    app = ops_app
    client, staff = app.client("alice"), app.client("staff")
    with subscribed(app, "staff") as ws:
        receiver = Frames(ws)
        receiver.start()
        before, got_before = settled(app, receiver)
        jobs = []
        for path in ("media/clip.mp4", "media/clip.mp4", "media/missing.mp4"):
            video = add_video(client, media.url(unique(path)))
            jobs.append(client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
        for job_id in jobs:
            finished(client, job_id)

        # Every frame the publishers sent reached the subscriber, and was counted
        # once, in whichever process sent it.
        def frames_match():
            sent = frames_sent(scrape(app))
            delta = {t: sent[t] - before[t] for t in sent}
            got = {t: receiver.counts[t] - got_before[t] for t in delta}
            return delta if delta == got else None

        delta = wait_for(frames_match, timeout=20, interval=0.5)
        assert delta["status"] >= 3 * 3  # queued, running, finished for each job
        assert delta["progress"] > 0
        receiver.stop.set()

    samples = scrape(app)
    rows = staff.get("/api/jobs", params={"limit": 500}).json()
    by_queue_status = Counter((j["queue"], j["status"]) for j in rows)
    for (queue, status), n in by_queue_status.items():
        assert value(samples, "mvidarr_jobs", queue=queue, status=status) == n
    assert sum(v for (name, _), v in samples.items() if name == "mvidarr_jobs") == len(rows)

    # The histogram holds every job that ran, by the time it ran.
    ran: dict[tuple, list[float]] = {}
    for j in rows:
        if j["started_at"] and j["finished_at"]:
            took = datetime.fromisoformat(j["finished_at"]) - datetime.fromisoformat(
                j["started_at"]
            )
            ran.setdefault((j["kind"], j["status"]), []).append(took.total_seconds())
    assert ("download_video", "failed") in ran and ("download_video", "succeeded") in ran
    for (kind, outcome), seconds in ran.items():
        labels = {"kind": kind, "outcome": outcome}
        assert value(samples, "mvidarr_job_duration_seconds_gcount", **labels) == len(seconds)
        total = value(samples, "mvidarr_job_duration_seconds_gsum", **labels)
        assert total == pytest.approx(sum(seconds), abs=0.01)
        for bound in BUCKETS:
            if any(abs(s - bound) < 0.01 for s in seconds):
                continue  # too close to call
            within = sum(1 for s in seconds if s <= bound)
            le = str(float(bound))
            assert value(samples, "mvidarr_job_duration_seconds_bucket", le=le, **labels) == within

    workers = staff.get("/api/jobs/stats").json()["workers"]
    assert value(samples, "mvidarr_workers_alive") == len(workers) == 1
    assert value(samples, "mvidarr_worker_threads", queue="video_downloads") == 1


def test_open_sockets_and_the_queue_depth_follow_what_happens(ops_app, media):
    app = ops_app
    client, staff = app.client("alice"), app.client("staff")

    def sockets() -> float:
        return value(scrape(app), "mvidarr_websocket_connections")

    with subscribed(app, "alice"), subscribed(app, "bob"), subscribed(app, "alice"):
        wait_for(lambda: sockets() == 3, timeout=10)
    wait_for(lambda: sockets() == 0, timeout=10)

    # One download runs at a time (MVIDARR_DOWNLOAD_CONCURRENCY=1); the other
    # two are due: the depth a scaler would act on.
    jobs = [
        submit_download(client, media.url(unique("media/long.mp4?rate=100000"))) for _ in range(3)
    ]

    def queue(samples: dict, status: str) -> float:
        return value(samples, "mvidarr_jobs", queue="video_downloads", status=status)

    def depth_is(n: int, paused: int = 0):
        def check():
            s = scrape(app)
            depth = value(s, "mvidarr_queue_depth", queue="video_downloads")
            held = value(s, "mvidarr_queue_paused", queue="video_downloads")
            ok = (queue(s, "running"), queue(s, "queued"), depth, held) == (1, 2, n, paused)
            return s if ok else None

        return check

    wait_for(depth_is(2), timeout=30)
    assert staff.post("/api/queue/pause").status_code == 200
    wait_for(depth_is(0, paused=1), timeout=10)  # held: no worker may start them
    assert staff.post("/api/queue/resume").status_code == 200
    wait_for(depth_is(2), timeout=10)
    for job_id in jobs:
        client.post(f"/api/jobs/{job_id}/cancel")
    for job_id in jobs:
        assert finished(client, job_id)["status"] == "cancelled"
    assert value(scrape(app), "mvidarr_queue_depth", queue="video_downloads") == 0


def test_the_broker_queue_length_counts_what_no_worker_has_fetched(ops_app, media):
    app = ops_app
    if app.mode == "embedded":  # no Redis list to read: the metric is absent, not 0
        assert not any(name == "mvidarr_broker_messages" for name, _ in scrape(app))
        return
    client = app.client("alice")
    app.stop_process("worker")  # a clean stop takes its beat away at once
    wait_for(lambda: value(scrape(app), "mvidarr_workers_alive") == 0, timeout=10)
    time.sleep(1.5)  # a stopping worker hands back what it had fetched, a second later
    before = value(scrape(app), "mvidarr_broker_messages", queue="video_downloads") or 0
    jobs = [submit_download(client, media.url(unique("media/clip.mp4"))) for _ in range(3)]
    samples = scrape(app)
    assert value(samples, "mvidarr_broker_messages", queue="video_downloads") - before == 3
    assert value(samples, "mvidarr_queue_depth", queue="video_downloads") == 3

    app.start_process("worker", "worker")
    for job_id in jobs:
        assert finished(client, job_id)["status"] == "succeeded"
    samples = scrape(app)
    assert value(samples, "mvidarr_broker_messages", queue="video_downloads") == 0
    assert value(samples, "mvidarr_queue_depth", queue="video_downloads") == 0
    assert value(samples, "mvidarr_workers_alive") == 1
