"""A worker that dies after filing a download in the library but before
recording it (between ``store()`` and the finishing transaction) loses
nothing and leaves nothing behind: the next attempt records the file without
downloading again, or downloads again when the file is gone, and a job that
ends otherwise removes it.

The dead worker is a ``manage.py shell`` that claims the job as ``ghost:1``,
files a real clip with the kind's own ``store()``, keeps what it stored on the
row, and exits without a worker beat, as a SIGKILLed worker would between
those steps. The app's own watchdog and worker do the rest."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.apikit import finished, job_of, wait_for
from tests.live import LiveApp

GHOST = """
import json, shutil
from django.contrib.auth import get_user_model
from django.db import transaction
from jobs import pause
from jobs.models import Job
from videos import probing
from videos.models import Video

alice = get_user_model().objects.get(username="alice")
video = Video.objects.add(alice, {url!r}, {title!r}, "The Ghosts", None)[0]
with transaction.atomic():  # claimed before its message goes out: no worker gets it
    job = Job.claim(video.request_download(alice)[0].pk, "ghost:1")
job.work_dir.mkdir(parents=True, exist_ok=True)
source = job.work_dir / "clip.mp4"
shutil.copy({clip!r}, source)
result = {{"filepath": str(source), "ext": "mp4", "info": {{"id": "ghost", "duration": 6}}}}
result["media"] = probing.confirm_media(source, "mp4")  # as the download's child does
stored = job.spec.store(job, result, job.work_dir)
assert job.keep_stored(stored)
if {last}:  # it was the job's last attempt
    Job.objects.filter(pk=job.pk).update(max_attempts=job.attempts)
if {hold}:  # downloads paused: the job the watchdog queues again stays queued
    pause.pause(reason="test")
print(json.dumps({{"job": str(job.pk), "video": video.pk, "path": stored["path"]}}))
"""


@pytest.fixture(scope="module", params=["embedded", "redis"])
def app(request):
    # A worker silent for 3 s is dead: the watchdog takes its jobs back within ~5 s.
    with LiveApp(request.param, extra_env={"MVIDARR_WORKER_DEAD_AFTER": "3"}) as app:
        yield app


def ghost_download(app, media, hold: bool = False, last: bool = False) -> tuple[dict, str]:
    """A download filed by a worker that then died (pausing downloads first
    with ``hold``; on the job's last attempt with ``last``); and the media
    key of its URL."""
    key = uuid.uuid4().hex
    script = GHOST.format(
        url=media.url(f"media/clip.mp4?key={key}"),
        title=f"Ghost {key[:8]}",
        clip=str(media.cache / "clip.mp4"),
        hold=hold,
        last=last,
    )
    ghost = json.loads(app.manage("shell", "-c", script).strip().splitlines()[-1])
    assert Path(ghost["path"]).is_file() and Path(ghost["path"]).with_suffix(".nfo").is_file()
    ghost["title"] = f"Ghost {key[:8]}"
    return ghost, key


def library_files(app, ghost: dict) -> list[str]:
    """The suffixes of the video's files in the library (media and NFO)."""
    files = (app.data_dir / "library").rglob(f"*{ghost['title']}*")
    return sorted(p.suffix for p in files if p.suffix in (".mp4", ".nfo"))


def test_the_next_attempt_records_a_dead_workers_filed_download_without_downloading_again(
    app, media
):
    client = app.client("alice")
    ghost, key = ghost_download(app, media)
    job = finished(client, ghost["job"], timeout=60)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    log = [entry["message"] for entry in client.get(f"/api/jobs/{ghost['job']}/log").json()]
    assert "Recording what the last attempt stored" in log, log
    assert media.requests(key) == []  # nothing fetched twice
    video = client.get(f"/api/videos/{ghost['video']}").json()
    assert video["status"] == "downloaded"
    assert str(app.data_dir / "library" / video["file"]) == ghost["path"]
    assert library_files(app, ghost) == [".mp4", ".nfo"]


def test_a_download_filed_on_the_last_attempt_is_recorded_by_one_more(app, media):
    client = app.client("alice")
    ghost, key = ghost_download(app, media, last=True)
    job = finished(client, ghost["job"], timeout=60)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    assert media.requests(key) == []
    video = client.get(f"/api/videos/{ghost['video']}").json()
    assert video["status"] == "downloaded"
    assert library_files(app, ghost) == [".mp4", ".nfo"]


def test_a_filed_download_removed_before_the_next_attempt_is_downloaded_again(app, media):
    client = app.client("alice")
    ghost, key = ghost_download(app, media)
    Path(ghost["path"]).unlink()
    job = finished(client, ghost["job"], timeout=60)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    assert media.completed(key) >= 1  # fetched again
    video = client.get(f"/api/videos/{ghost['video']}").json()
    assert video["status"] == "downloaded" and video["file_size"] > 0
    # The old NFO went with its file: one video, one file, one NFO.
    assert library_files(app, ghost) == [".mp4", ".nfo"]


def test_cancelling_a_job_queued_again_after_its_worker_died_removes_the_filed_download(app, media):
    client = app.client("alice")
    try:
        ghost, key = ghost_download(app, media, hold=True)
        wait_for(lambda: job_of(client, ghost["job"])["status"] == "queued", timeout=30)
        assert Path(ghost["path"]).is_file()  # kept for the attempt that would record it
        assert client.post(f"/api/jobs/{ghost['job']}/cancel").status_code == 202
    finally:
        app.manage("shell", "-c", "from jobs import pause; pause.resume()")
    assert job_of(client, ghost["job"])["status"] == "cancelled"
    assert library_files(app, ghost) == []
    video = client.get(f"/api/videos/{ghost['video']}").json()
    assert video["status"] != "downloaded" and not video["file"]
    assert media.requests(key) == []
