"""Pausing downloads, and the numbers behind the dashboard."""

from __future__ import annotations

import time
import uuid

from tests.apikit import add_video, finished, job_of


def test_pause_holds_queued_downloads_until_resume(app, media):
    alice, staff = app.client("alice"), app.client("staff")
    assert alice.post("/api/queue/pause").status_code == 403
    try:
        assert staff.post("/api/queue/pause").json()["paused"] is True
        assert alice.get("/api/queue").json()["paused"] is True
        video = add_video(alice, media.url(f"media/clip.mp4?key={uuid.uuid4().hex}"))
        job_id = alice.post(f"/api/videos/{video['id']}/download").json()["job_id"]
        time.sleep(1.5)  # long past the ~100 ms a free worker needs to start it
        assert job_of(alice, job_id)["status"] == "queued"
        info = finished(alice, video["job_id"])  # other queues keep working
        assert info["status"] == "succeeded"
    finally:
        assert staff.post("/api/queue/resume").json()["paused"] is False
    assert finished(alice, job_id)["status"] == "succeeded"


def test_stats_count_jobs_and_see_live_workers(app, media):
    client = app.client("alice")
    video = add_video(client, media.url(f"media/missing.mp4?key={uuid.uuid4().hex}"))
    finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    stats = client.get("/api/jobs/stats").json()
    assert stats["by_status"]["failed"] >= 1
    assert stats["failed_last_24h"] >= 1
    assert set(stats["by_status"]) == {"queued", "running", "succeeded", "failed", "cancelled"}
    assert stats["workers"] and "video_downloads" in stats["workers"][0]["queues"]
    bob = app.client("bob").get("/api/jobs/stats").json()
    assert bob["failed_last_24h"] <= stats["failed_last_24h"]


def test_a_ping_job_goes_through_the_whole_pipeline(app):
    client = app.client("alice")
    response = client.post("/api/jobs", json={"kind": "ping"})
    assert response.status_code == 202
    job = finished(client, response.json()["id"], timeout=10)
    assert job["status"] == "succeeded" and job["result"] == {"pong": True}
    assert client.post("/api/jobs", json={"kind": "download_video"}).status_code == 400
