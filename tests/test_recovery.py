"""Recovery that is not a fault drill (those are in tests/drills/): a live worker keeps
its long job, failures are retried or not as they deserve, one scheduler of two runs."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.apikit import add_video, finished, job_of, unique, wait_for
from tests.live import LiveApp

WATCHDOG_RUNNER = (
    "from jobs.models import ScheduledTask as T; print(T.objects.get(name='watchdog').last_run_by)"
)


@pytest.fixture(scope="module")
def app():
    # The default thresholds: a dead worker is found by its missing beat
    # (MVIDARR_WORKER_DEAD_AFTER, 10 s), long before a job's own heartbeat is stale (90 s).
    with LiveApp("redis") as app:
        yield app


def test_a_live_workers_long_job_is_never_taken_from_it(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("media/long.mp4?rate=60000")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    time.sleep(15)  # longer than MVIDARR_WORKER_DEAD_AFTER plus a watchdog round
    job = job_of(client, job_id)
    assert job["status"] == "running" and job["attempts"] == 1, job
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202


@pytest.fixture(scope="module", params=["embedded", "redis"])
def retrying_app(request):
    env = {"MVIDARR_RETRY_DELAY": "1", "MVIDARR_STALL_TIMEOUT": "3"}
    with LiveApp(request.param, extra_env=env) as app:
        yield app


def test_a_server_error_is_retried_until_it_succeeds(retrying_app, media):
    client = retrying_app.client("alice")
    key = uuid.uuid4().hex
    # POST /api/jobs adds the video without a metadata job, so only the
    # download's attempts meet the two 503s.
    url = media.url(f"media/clip.mp4?fail=2&key={key}")
    job_id = client.post("/api/jobs", json={"kind": "download_video", "url": url}).json()["id"]
    job = finished(client, job_id, timeout=60)
    log = [entry["message"] for entry in client.get(f"/api/jobs/{job_id}/log").json()]
    assert job["status"] == "succeeded", log
    assert job["attempts"] == 3
    assert sum("failed (server_error)" in message for message in log) == 2
    video_id = int(job["subject"].partition(":")[2])
    assert client.get(f"/api/videos/{video_id}").json()["status"] == "downloaded"


def test_a_missing_file_is_not_retried(retrying_app, media):
    client = retrying_app.client("alice")
    video = add_video(client, media.url(unique("media/gone.mp4")))
    job = finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    log = client.get(f"/api/jobs/{job['id']}/log").json()
    assert (
        job["status"] == "failed" and job["error_code"] == "not_found" and job["attempts"] == 1
    ), log


def test_cancelling_a_job_that_waits_to_retry(retrying_app, media):
    client = retrying_app.client("alice")
    video = add_video(client, media.url(unique("media/clip.mp4?fail=5")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(
        lambda: (
            job_of(client, job_id)["attempts"] >= 1 and job_of(client, job_id)["status"] == "queued"
        )
    )
    assert client.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    time.sleep(2.5)  # past the retry time: the delayed message must not revive it
    job = job_of(client, job_id)
    assert job["status"] == "cancelled" and job["attempts"] == 1


def test_only_one_of_two_schedulers_runs_the_tasks(app):
    app.start_process("scheduler2", "scheduler")
    try:
        seen = set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            runner = app.manage(
                "shell",
                "-c",
                WATCHDOG_RUNNER,
            ).strip()
            seen.add(runner)
            time.sleep(0.5)
        assert len(seen) == 1, seen
    finally:
        app.stop_process("scheduler2")
