"""The disk guard, on a real small disk (a tmpfs mounted for the test): a
download does not start below MVIDARR_MIN_FREE_MB, a disk that fills up
during the move into the library fails the job cleanly, and either way
downloads pause with the reason shown and nothing half-written is left."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from jobs import pause
from tests.apikit import finished, unique
from tests.diskkit import files_under, tmpfs
from tests.live import LiveApp

SIZE_MB = 16


@pytest.fixture
def small_disk():
    """A 16 MB tmpfs; skipped where mounting is not allowed (not root)."""
    where = Path(tempfile.mkdtemp(prefix="mvidarr-small-disk-"))
    try:
        with tmpfs(where, SIZE_MB):
            yield where
    finally:
        where.rmdir()


def test_a_download_does_not_start_below_the_free_space_minimum(small_disk, media):
    env = {"MVIDARR_LIBRARY_DIR": str(small_disk), "MVIDARR_MIN_FREE_MB": str(SIZE_MB * 2)}
    with LiveApp("embedded", extra_env=env) as app:
        client = app.client("alice")
        key = os.urandom(8).hex()
        url = media.url(f"media/clip.mp4?key={key}")
        job = finished(
            client,
            client.post("/api/jobs", json={"kind": "download_video", "url": url}).json()["id"],
        )
        assert job["status"] == "failed" and job["error_code"] == "disk_full", job
        assert "MVIDARR_MIN_FREE_MB" in job["error"] and job["attempts"] == 1
        assert media.stats(key) == 0  # not one request: the guard runs before yt-dlp
        queue = client.get("/api/queue").json()
        assert queue["paused"] and "Disk full" in queue["reason"]
        assert files_under(small_disk) == [] and files_under(app.data_dir / "work") == []


def test_a_library_disk_that_fills_up_fails_the_job_and_leaves_nothing_behind(small_disk, media):
    # Leave about 1 MB free: the 2 MB download fits in the scratch space (on
    # the data disk) but not in the library.
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={small_disk / 'filler'}", "bs=1M", f"count={SIZE_MB - 1}"],
        capture_output=True,
    )
    env = {"MVIDARR_LIBRARY_DIR": str(small_disk), "MVIDARR_MIN_FREE_MB": "0"}
    with LiveApp("embedded", extra_env=env) as app:
        client = app.client("alice")
        url = media.url(unique("media/long.mp4"))
        job = finished(
            client,
            client.post("/api/jobs", json={"kind": "download_video", "url": url}).json()["id"],
        )
        assert job["status"] == "failed" and job["error_code"] == "disk_full", job
        assert client.get("/api/queue").json()["paused"]
        assert files_under(small_disk) == [small_disk / "filler"]
        assert files_under(app.data_dir / "work") == []


def test_a_file_over_the_size_limit_is_refused_for_good(media):
    with LiveApp("embedded", extra_env={"MVIDARR_MAX_FILESIZE_MB": "1"}) as app:
        client = app.client("alice")
        url = media.url(unique("media/long.mp4"))
        job = finished(
            client,
            client.post("/api/jobs", json={"kind": "download_video", "url": url}).json()["id"],
        )
        assert job["status"] == "failed" and job["error_code"] == "too_large", job
        assert "MVIDARR_MAX_FILESIZE_MB" in job["error"] and job["attempts"] == 1
        assert files_under(app.data_dir / "library") == []
        assert not client.get("/api/queue").json()["paused"]  # not a disk problem


def test_the_pages_say_why_downloads_are_paused(client, users):
    pause.pause(reason="Disk full: only 3 MB free")
    client.force_login(users["staff"])
    for path in ("/system/", "/activity/", "/"):
        assert "Disk full: only 3 MB free" in client.get(path).content.decode(), path
    client.force_login(users["alice"])
    page = client.get("/").content.decode()
    assert 'id="paused-banner"' in page and "resume them" not in page
