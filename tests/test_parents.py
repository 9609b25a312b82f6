"""Parent jobs: playlists/feeds and bulk downloads, with their children."""

from __future__ import annotations

import uuid

from tests.apikit import add_video, finished, job_of, videos_from, wait_for


def start_playlist(client, url: str) -> str:
    response = client.post("/api/jobs", json={"kind": "download_playlist", "url": url})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_a_feed_becomes_videos_downloaded_by_child_jobs(app, media):
    client = app.client("alice")
    key = uuid.uuid4().hex
    parent_id = start_playlist(client, media.url(f"feed.xml?n=4&key={key}"))
    parent = finished(client, parent_id, timeout=90)
    assert parent["status"] == "succeeded", parent
    assert parent["children"] == {
        "total": 4,
        "queued": 0,
        "running": 0,
        "succeeded": 4,
        "failed": 0,
        "cancelled": 0,
    }
    assert parent["progress"]["percent"] == 100.0
    children = [j for j in client.get("/api/jobs").json() if j["parent_id"] == parent_id]
    assert len(children) == 4 and {c["kind"] for c in children} == {"download_video"}
    videos = videos_from(client, key)
    assert len(videos) == 4 and {v["status"] for v in videos} == {"downloaded"}
    # the same feed again: everything is in the library, nothing to do
    again = finished(client, start_playlist(client, media.url(f"feed.xml?n=4&key={key}")))
    assert again["status"] == "succeeded" and again["children"]["total"] == 0


def test_a_failing_child_fails_the_parent_with_counts(app, media):
    client = app.client("alice")
    parent_id = start_playlist(client, media.url(f"feed.xml?n=2&status=404&key={uuid.uuid4().hex}"))
    parent = finished(client, parent_id, timeout=60)
    assert parent["status"] == "failed"
    assert parent["error"] == "2 of 2 failed" and parent["children"]["failed"] == 2


def test_cancelling_a_parent_cancels_its_children(app, media):
    client = app.client("alice")
    parent_id = start_playlist(
        client, media.url(f"feed.xml?n=5&media=long.mp4&rate=20000&key={uuid.uuid4().hex}")
    )
    wait_for(lambda: (job_of(client, parent_id)["children"] or {}).get("running", 0) >= 1)
    assert client.post(f"/api/jobs/{parent_id}/cancel").json()["status"] == "cancelled"
    children = [j for j in client.get("/api/jobs").json() if j["parent_id"] == parent_id]
    assert len(children) == 5 and {c["status"] for c in children} == {"cancelled"}

    def work_dirs_gone():
        return not any((app.data_dir / "work" / uuid.UUID(c["id"]).hex).exists() for c in children)

    wait_for(work_dirs_gone, timeout=2)
    assert job_of(client, parent_id)["children"]["cancelled"] == 5


def test_a_thousand_entry_feed_makes_one_parent_and_a_thousand_children(app, media):
    client = app.client("bob")
    parent_id = start_playlist(
        client, media.url(f"feed.xml?n=1000&rate=20000&key={uuid.uuid4().hex}")
    )

    def listed():
        job = job_of(client, parent_id)
        return job["progress"]["stage"] == "waiting" and job

    parent = wait_for(listed, timeout=60)
    assert parent["children"]["total"] == 1000
    assert client.get("/api/videos", params={"page": 1}).json()["count"] >= 1000
    client.post(f"/api/jobs/{parent_id}/cancel")
    parent = job_of(client, parent_id)
    assert parent["status"] == "cancelled" and parent["children"]["cancelled"] == 1000


def test_bulk_download_runs_one_parent_with_a_child_per_video(app, media):
    client = app.client("alice")
    videos = [
        add_video(client, media.url(f"media/clip.mp4?key={uuid.uuid4().hex}")) for _ in range(3)
    ]
    response = client.post(
        "/api/videos/bulk/download", json={"video_ids": [v["id"] for v in videos]}
    )
    assert response.status_code == 202, response.text
    parent = finished(client, response.json()["id"], timeout=60)
    assert parent["kind"] == "bulk_download_videos" and parent["status"] == "succeeded"
    assert parent["children"]["succeeded"] == 3
    for video in videos:
        assert client.get(f"/api/videos/{video['id']}").json()["status"] == "downloaded"


def test_bulk_download_refuses_bad_or_foreign_ids(app, media):
    alice, bob = app.client("alice"), app.client("bob")
    video = add_video(alice, media.url(f"media/clip.mp4?key={uuid.uuid4().hex}"))
    assert (
        bob.post("/api/videos/bulk/download", json={"video_ids": [video["id"]]}).status_code == 404
    )
    for body in ({"video_ids": []}, {"video_ids": ["x"]}, {"video_ids": list(range(5001))}, {}):
        response = alice.post("/api/videos/bulk/download", json=body)
        assert response.status_code == 422 and response.json()["detail"]
