"""Nothing lost, nothing twice: a worker killed mid-download (scaled mode)."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.apikit import add_video, finished, job_of, unique, wait_for
from tests.live import LiveApp
from tests.media import DEFAULT_CACHE

SEND_TWICE = (
    "from jobs.models import Job; job = Job.objects.get(pk='%s'); job.enqueue(); job.enqueue()"
)
WATCHDOG_RUNNER = (
    "from jobs.models import ScheduledTask as T; print(T.objects.get(name='watchdog').last_run_by)"
)


@pytest.fixture(scope="module")
def app():
    # The default thresholds: a dead worker is found by its missing beat
    # (MVIDARR_WORKER_DEAD_AFTER, 10 s), long before a job's own heartbeat is stale (90 s).
    with LiveApp("redis") as app:
        yield app


def app_processes(app: LiveApp) -> set[int]:
    """Every process (including grandchildren) started for this app."""
    marker = f"MVIDARR_DATA_DIR={app.data_dir}".encode()
    pids = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


def start_slow_download(app, media, rate: int = 400000) -> tuple[dict, str]:
    client = app.client("alice")
    video = add_video(client, media.url(unique(f"media/long.mp4?rate={rate}")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    return video, job_id


def test_a_killed_workers_download_completes_on_another_worker(app, media):
    client = app.client("alice")
    video, job_id = start_slow_download(app, media)
    app.stop_process("worker", signal.SIGKILL)
    survivors = {app.procs["serve"].pid, app.procs["scheduler"].pid}

    def children_gone():  # the yt-dlp child notices its supervisor died
        return app_processes(app) <= survivors

    wait_for(children_gone, timeout=5)
    killed = time.monotonic()
    # Queued again within the recovery bound (20 s), well before the job's
    # own heartbeat would count as stale.
    wait_for(lambda: job_of(client, job_id)["status"] == "queued", timeout=20)
    recovered_after = time.monotonic() - killed
    app.start_process("worker", "worker")
    job = finished(client, job_id, timeout=90)
    print(f"requeued {recovered_after:.1f} s after the kill")
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    log = [entry["message"] for entry in client.get(f"/api/jobs/{job_id}/log").json()]
    assert any("stopped responding" in message for message in log)
    video = client.get(f"/api/videos/{video['id']}").json()
    files = [f for f in (app.data_dir / "library").rglob("*.mp4") if "[long]" in f.name]
    assert len(files) == 1
    assert (
        files[0].stat().st_size == (DEFAULT_CACHE / "long.mp4").stat().st_size == video["file_size"]
    )


def test_a_live_workers_long_job_is_never_taken_from_it(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("media/long.mp4?rate=60000")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    time.sleep(15)  # longer than MVIDARR_WORKER_DEAD_AFTER plus a watchdog round
    job = job_of(client, job_id)
    assert job["status"] == "running" and job["attempts"] == 1, job
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202


def test_a_worker_stopped_gracefully_hands_its_job_back_at_once(app, media):
    client = app.client("alice")
    # Slow enough that the download is surely still running when the worker stops.
    _, job_id = start_slow_download(app, media, rate=150000)
    app.stop_process("worker", signal.SIGTERM)
    job = job_of(client, job_id)
    assert job["status"] == "queued", job
    app.start_process("worker", "worker")
    # The reconciler re-sends a message the stopping worker may have lost.
    job = finished(client, job_id, timeout=120)
    log = [entry["message"] for entry in client.get(f"/api/jobs/{job_id}/log").json()]
    assert job["status"] == "succeeded" and job["attempts"] == 2, log


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


def test_a_stalled_download_is_stopped_and_retried(retrying_app, media):
    client = retrying_app.client("alice")
    video = add_video(client, media.url(unique("media/clip.mp4?stall_after=50000")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    job = finished(client, job_id, timeout=60)
    assert job["status"] == "failed" and job["error_code"] == "stalled"
    assert job["attempts"] == 3
    assert "gave up after 3 attempts" in job["error"]
    assert not (retrying_app.data_dir / "work" / uuid.UUID(job_id).hex).exists()
    assert client.get(f"/api/videos/{video['id']}").json()["status"] == "failed"


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


def test_a_message_delivered_twice_runs_once(app, media):
    client = app.client("alice")
    key = uuid.uuid4().hex
    reference = add_video(client, media.url(f"media/clip.mp4?key=ref{key}"))
    finished(client, client.post(f"/api/videos/{reference['id']}/download").json()["job_id"])
    video = add_video(client, media.url(f"media/clip.mp4?rate=300000&key={key}"))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    app.manage(
        "shell",
        "-c",
        SEND_TWICE % job_id,
    )
    job = finished(client, job_id)
    assert job["status"] == "succeeded" and job["attempts"] == 1
    assert media.stats(key) == media.stats(f"ref{key}")


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
