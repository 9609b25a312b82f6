"""Deleting and re-downloading against a running MVidarr, with real yt-dlp
and the local media server: a delete stops a running download for real, and
a re-download replaces the file only once the new one is in the library."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from tests.apikit import add_video, download, finished, job_of, unique, wait_for


def open_under(folder: Path) -> list[str]:
    """Files under ``folder`` that some process of ours still holds open."""
    held = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:  # gone, or not ours
            continue
        held += [link for link in links if link.startswith(str(folder))]
    return held


def test_deleting_a_video_stops_its_running_download(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("media/long.mp4?rate=30000")))
    finished(client, video["job_id"])
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    work_dir = app.data_dir / "work" / uuid.UUID(job_id).hex
    assert open_under(work_dir)  # the child is writing its partial file

    response = client.delete(f"/api/videos/{video['id']}", params={"delete_file": "true"})
    assert response.status_code == 204
    assert job_of(client, job_id)["status"] == "cancelled"
    wait_for(lambda: not open_under(work_dir) and not work_dir.exists(), timeout=3)
    assert client.get(f"/api/videos/{video['id']}").status_code == 404
    assert not list((app.data_dir / "library").rglob(f"*{job_id}*"))


def test_a_redownload_replaces_the_file_only_once_the_new_one_is_in(embedded_app, media):
    client = embedded_app.client("alice")
    library = embedded_app.data_dir / "library"
    first = download(client, media.url(unique("media/clip.mp4?rate=150000")))
    assert first["status"] == "succeeded", first
    video_id = int(first["subject"].partition(":")[2])
    old = library / first["result"]["file"]
    old_files = [old, old.with_suffix(".nfo"), old.with_name(old.stem + "-thumb.jpg")]
    old_files[2].write_bytes(b"a thumbnail, as the thumbnail job leaves it")

    again = client.post(f"/api/videos/{video_id}/download")
    assert again.status_code == 202, again.text
    job_id = again.json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    assert all(f.exists() for f in old_files)  # still there while the new one downloads
    done = finished(client, job_id)
    assert done["status"] == "succeeded", done
    new = library / done["result"]["file"]
    assert new != old and new.is_file() and new.with_suffix(".nfo").is_file()
    wait_for(lambda: not any(f.exists() for f in old_files), timeout=5)
    video = client.get(f"/api/videos/{video_id}").json()
    assert video["status"] == "downloaded" and video["file"] == done["result"]["file"]

    response = client.delete(f"/api/videos/{video_id}", params={"delete_file": "true"})
    assert response.status_code == 204
    assert not new.exists() and not new.with_suffix(".nfo").exists()
