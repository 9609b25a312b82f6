"""Real downloads through a running MVidarr, in embedded and in Redis mode:
yt-dlp and ffmpeg against the local media server, progress over a real
WebSocket, cancel, and duplicate submits."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.apikit import add_video, finished, job_of, unique, wait_for
from tests.media import DEFAULT_CACHE


def test_it_reads_metadata_into_the_video(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("page/clip.html")))
    job = finished(client, video["job_id"])
    assert job["status"] == "succeeded", job
    video = client.get(f"/api/videos/{video['id']}").json()
    assert video["title"].startswith("Test video clip")
    assert video["status"] == "wanted"


@pytest.mark.parametrize("path", ["media/clip.mp4", "hls/clip/index.m3u8"])
def test_a_download_lands_in_the_library_complete(app, media, path):
    client = app.client("alice")
    video = add_video(client, media.url(unique(path)), artist="Test Artist", title="Clip")
    started = client.post(f"/api/videos/{video['id']}/download")
    assert started.status_code == 202
    job = finished(client, started.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["progress"]["percent"] == 100.0
    video = client.get(f"/api/videos/{video['id']}").json()
    assert video["status"] == "downloaded"
    assert video["file"].startswith("Test Artist/Test Artist - Clip [")
    file = app.data_dir / "library" / video["file"]
    assert file.stat().st_size == video["file_size"]
    if path.startswith("media/"):
        assert video["file_size"] == (DEFAULT_CACHE / "clip.mp4").stat().st_size
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(file)],
        capture_output=True,
        check=True,
        text=True,
    )
    assert float(json.loads(probe.stdout)["format"]["duration"]) == pytest.approx(6, abs=0.5)
    assert video["duration"] == pytest.approx(6, abs=0.5)
    technical = {k: video[k] for k in ("width", "height", "video_codec", "audio_codec")}
    assert technical == {"width": 320, "height": 240, "video_codec": "h264", "audio_codec": "aac"}
    assert video["container"] == ("mp4" if file.suffix == ".mp4" else video["container"])
    nfo = file.with_suffix(".nfo").read_text()
    assert nfo.count("<title>Clip</title>") == 1
    assert "<runtime>1</runtime>" in nfo  # minutes, as Kodi has it: a 6 s clip is not 0
    assert "<durationinseconds>6</durationinseconds>" in nfo and "<width>320</width>" in nfo
    assert not (app.data_dir / "work" / uuid.UUID(job["id"]).hex).exists()
    log = [entry["message"] for entry in client.get(f"/api/jobs/{job['id']}/log").json()]
    assert f"Saved to {video['file']}" in log
    # In the order things happened, though most lines are written at the end.
    assert log[0] == "Queued on video_downloads" and log[1].startswith("Attempt 1 started on ")
    assert log[-2:] == [f"Saved to {video['file']}", "Succeeded"]
    # The file was probed in the job's child: the process that supervises
    # never maps FFmpeg's libraries, so no hostile file can crash it.
    host = app.procs["worker" if "worker" in app.procs else "serve"].pid
    assert "libavformat" not in Path(f"/proc/{host}/maps").read_text()


def test_a_download_started_by_url_is_named_by_its_title_once_known(app, media):
    client = app.client("alice")
    url = media.url(unique("page/clip.html"))
    started = client.post("/api/jobs", json={"kind": "download_video", "url": url})
    assert started.status_code == 202, started.text
    assert started.json()["label"] == url  # nothing else is known yet
    job = finished(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    video = client.get(f"/api/videos/{job['result']['video_id']}").json()
    assert video["title"].startswith("Test video clip") and job["label"] == video["title"]


def test_progress_frames_stream_over_the_websocket(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("media/clip.mp4?rate=150000")))
    frames = []
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("alice")) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        assert json.loads(ws.recv(5))["type"] == "snapshot"
        job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
        while True:
            frame = json.loads(ws.recv(30))
            if frame.get("job_id") != job_id:
                continue
            frames.append((time.time(), frame))
            if frame["type"] == "status" and frame["status"] not in ("queued", "running"):
                break
    statuses = [f["status"] for _, f in frames if f["type"] == "status"]
    assert statuses == ["queued", "running", "succeeded"]
    progress = [f for _, f in frames if f["type"] == "progress" and f["percent"] is not None]
    assert len(progress) >= 4, frames
    percents = [f["percent"] for f in progress]
    assert percents == sorted(percents) and percents[-1] > 90
    for received, frame in frames:
        assert frame["ts"] <= received + 0.01
    sample = progress[len(progress) // 2]
    assert {"downloaded_bytes", "total_bytes", "speed", "eta", "stage"} <= set(sample)
    assert sample["total_bytes"] == (DEFAULT_CACHE / "clip.mp4").stat().st_size


@pytest.mark.parametrize("fault", ["rate=20000", "stall_after=60000"], ids=["throttled", "stalled"])
def test_cancel_stops_a_running_download_within_two_seconds(app, media, fault):
    client = app.client("alice")
    video = add_video(client, media.url(unique(f"media/long.mp4?{fault}")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]

    def downloading():
        return (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0

    wait_for(downloading, timeout=30)
    work_dir = app.data_dir / "work" / uuid.UUID(job_id).hex
    assert any(work_dir.iterdir())  # a partial file exists
    cancelled_at = time.monotonic()
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"

    def partial_files_gone():
        return not work_dir.exists()

    wait_for(partial_files_gone, timeout=2.0, interval=0.02)
    assert time.monotonic() - cancelled_at < 2.0
    assert not list((app.data_dir / "library").rglob(f"*{job_id}*"))
    job = job_of(client, job_id)
    assert job["status"] == "cancelled"
    assert client.get(f"/api/videos/{video['id']}").json()["status"] == "wanted"


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by ``pid``."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):  # gone meanwhile
            fields = stat.read_text().rpartition(")")[2].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def test_a_downloads_child_runs_below_the_processes_that_serve_pages(app, media):
    """The job's child (and the yt-dlp and ffmpeg in it) is niced, so that
    with every core busy the web server and the supervisors come first."""
    client = app.client("alice")
    job_id = client.post(
        "/api/jobs",
        json={"kind": "download_video", "url": media.url(unique("media/long.mp4?rate=60000"))},
    ).json()["id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0, timeout=30)
    host = app.procs["worker" if "worker" in app.procs else "serve"].pid
    niceness = {pid: os.getpriority(os.PRIO_PROCESS, pid) for pid in descendants(host)}
    client.post(f"/api/jobs/{job_id}/cancel")
    assert os.getpriority(os.PRIO_PROCESS, host) == 0
    assert 10 in niceness.values(), niceness  # the job's child
    assert 0 in niceness.values(), niceness  # the forkserver that starts children


def test_double_submit_gives_one_job_and_one_download(app, media):
    client = app.client("alice")
    # How many requests one download of this clip makes (yt-dlp probes first).
    reference_key = uuid.uuid4().hex
    reference = add_video(client, media.url(f"media/clip.mp4?key={reference_key}"))
    finished(client, client.post(f"/api/videos/{reference['id']}/download").json()["job_id"])
    key = uuid.uuid4().hex
    video = add_video(client, media.url(f"media/clip.mp4?rate=400000&key={key}"))
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda _: client.post(f"/api/videos/{video['id']}/download"), range(8))
        )
    assert {r.status_code for r in responses} == {202}
    job_ids = {r.json()["job_id"] for r in responses}
    assert len(job_ids) == 1
    job = finished(client, job_ids.pop())
    assert job["status"] == "succeeded" and job["attempts"] == 1
    downloads = client.get("/api/jobs", params={"kind": "download_video"}).json()
    assert sum(1 for j in downloads if j["subject"] == f"video:{video['id']}") == 1
    assert media.stats(key) == media.stats(reference_key) > 0


def test_a_missing_video_fails_at_once_with_a_clear_reason(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(unique("media/missing.mp4")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    job = finished(client, job_id)
    assert job["status"] == "failed"
    assert job["error_code"] == "not_found"
    assert job["error"].startswith("Video not found (HTTP 404)")
    assert "HTTP Error 404: Not Found" in job["error_detail"]  # yt-dlp's own words
    assert job["attempts"] == 1
    video = client.get(f"/api/videos/{video['id']}").json()
    assert video["status"] == "failed" and "404" in video["error"]
    log = [entry["message"] for entry in client.get(f"/api/jobs/{job_id}/log").json()]
    assert any("404" in message for message in log)
    assert any(message.startswith("Last yt-dlp output:\n") for message in log)


def test_other_users_jobs_stay_invisible_over_http_and_websocket(app, media):
    alice, bob = app.client("alice"), app.client("bob")
    video = add_video(alice, media.url(unique("media/clip.mp4?rate=300000")))
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("bob")) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        snapshot = json.loads(ws.recv(5))
        job_id = alice.post(f"/api/videos/{video['id']}/download").json()["job_id"]
        assert all(j["id"] != job_id for j in snapshot["jobs"])
        for message in (
            {"type": "subscribe", "job_id": job_id},
            {"type": "cancel", "job_id": job_id},
        ):
            ws.send(json.dumps(message))
            reply = json.loads(ws.recv(5))
            assert reply["type"] == "error" and "jobs" not in reply
        assert bob.get(f"/api/jobs/{job_id}").status_code == 404
        finished(alice, job_id)
        ws.send(json.dumps({"type": "ping"}))
        while (frame := json.loads(ws.recv(5)))["type"] != "pong":
            assert frame.get("job_id") != job_id, frame
    assert job_of(alice, job_id)["status"] == "succeeded"
