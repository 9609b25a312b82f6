"""Drills on the workers (scaled mode): one killed or stopped mid-download,
and a job's message delivered more than once. Nothing is lost, nothing runs
twice."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.apikit import add_video, finished, job_of, wait_for
from tests.drillkit import alive, descendants, library_files, start_slow_download
from tests.media import DEFAULT_CACHE

SEND_AGAIN = "from jobs.models import Job; job = Job.objects.get(pk='%s')" + "; job.enqueue()" * 2
WORKER_OF = "from jobs.models import Job; print(Job.objects.get(pk='%s').worker)"
# A SIGKILLed worker's job is queued again within this (docs/architecture.md, Recovery).
RECOVERY_BOUND = 20


def runner(app, job_id: str) -> str:
    """The name of the app's process that runs the job (from its ``host:pid``)."""
    worker = app.manage("shell", "-c", WORKER_OF % job_id).strip().splitlines()[-1]
    pid = int(worker.rpartition(":")[2])
    return next(name for name, proc in app.procs.items() if os.getpgid(pid) == proc.pid)


@pytest.fixture
def two_workers(scaled_app):
    """``worker`` and ``worker2``; afterwards ``worker`` alone, as the other drills expect."""
    scaled_app.start_process("worker2", "worker")
    time.sleep(1)  # its consumers connect
    yield scaled_app
    for name in ("worker", "worker2"):
        if name in scaled_app.procs:
            scaled_app.stop_process(name)
    scaled_app.start_process("worker", "worker")


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_a_worker_killed_mid_download_has_its_job_finished_once_by_another(
    two_workers, media, figures, sig
):
    app = two_workers
    client = app.client("alice")
    before = library_files(app)
    # ~25 s: surely still running once its worker is found (a manage.py call).
    video, job_id = start_slow_download(app, media, rate=80000)
    victim = runner(app, job_id)
    assert job_of(client, job_id)["status"] == "running"
    children = descendants(app.procs[victim].pid)
    killed = time.monotonic()
    app.stop_process(victim, getattr(signal, sig))

    def children_gone():  # the yt-dlp child notices its supervisor died
        return not alive(children)

    wait_for(children_gone, timeout=5)
    wait_for(lambda: job_of(client, job_id)["attempts"] == 2, timeout=RECOVERY_BOUND + 10)
    requeued = time.monotonic() - killed
    job = finished(client, job_id, timeout=90)
    total = time.monotonic() - killed
    files = sorted(library_files(app) - before)
    video = client.get(f"/api/videos/{video['id']}").json()
    figures(f"{sig}: taken again by the other worker {requeued:.1f} s after the signal")
    figures(f"finished {total:.1f} s after; attempts {job['attempts']}; {len(files)} file")
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert requeued < RECOVERY_BOUND
    if sig == "SIGKILL":
        log = [entry["message"] for entry in client.get(f"/api/jobs/{job_id}/log").json()]
        assert any("stopped responding" in message for message in log)
    assert len(files) == 1
    size = (DEFAULT_CACHE / "long.mp4").stat().st_size
    assert files[0].stat().st_size == size == video["file_size"]


def test_a_job_delivered_three_times_runs_once_and_makes_one_file(scaled_app, media, figures):
    app = scaled_app
    client = app.client("alice")
    before = library_files(app)
    key = uuid.uuid4().hex
    reference = add_video(client, media.url(f"media/clip.mp4?key=ref{key}"))
    finished(client, client.post(f"/api/videos/{reference['id']}/download").json()["job_id"])
    video = add_video(client, media.url(f"media/clip.mp4?rate=300000&key={key}"))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    app.manage("shell", "-c", SEND_AGAIN % job_id)
    job = finished(client, job_id)
    requests, once = media.stats(key), media.stats(f"ref{key}")
    files = library_files(app) - before  # the reference's and this one's
    figures(
        f"3 deliveries: attempts {job['attempts']}; {requests} media requests (one run: {once})"
    )
    figures(f"{len(files) - 1} file made")
    assert job["status"] == "succeeded" and job["attempts"] == 1
    assert requests == once
    assert len(files) == 2
