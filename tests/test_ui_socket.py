"""The pages' own socket (``/ws/ui/``) against a running MVidarr: a video's
page hears only of that video, and the Activity page's redraws keep the view
it was opened with (metadata jobs shown or not)."""

from __future__ import annotations

from websockets.sync.client import connect

from tests.apikit import add_video, finished, unique


def ui_socket(app, query: str):
    return connect(f"{app.ws_url}/ws/ui/?{query}", additional_headers=app.ws_headers("alice"))


def test_a_video_pages_socket_sends_only_that_videos_fragments(embedded_app, media):
    client = embedded_app.client("alice")
    ours, other = (
        add_video(client, media.url(unique("media/clip.mp4?rate=200000"))) for _ in range(2)
    )
    for video in (ours, other):
        finished(client, video["job_id"])
    with ui_socket(embedded_app, f"page=video&subject=video:{ours['id']}") as ws:
        other_job = client.post(f"/api/videos/{other['id']}/download").json()["job_id"]
        our_job = client.post(f"/api/videos/{ours['id']}/download").json()["job_id"]
        messages = []
        while "Downloaded" not in (messages[-1] if messages else ""):
            messages.append(ws.recv(30))
    assert finished(client, other_job)["status"] == "succeeded"
    assert any(f'id="progress-{our_job}"' in m for m in messages)
    for message in messages:
        assert f'id="video-{ours["id"]}-state"' in message or f"progress-{our_job}" in message
        assert other_job not in message and f"video-{other['id']}-" not in message


def test_the_activity_socket_shows_metadata_jobs_only_when_asked(embedded_app, media):
    client = embedded_app.client("alice")
    video = add_video(client, media.url(unique("media/clip.mp4")))
    info = finished(client, video["job_id"])
    assert info["kind"] == "extract_video_info" and info["status"] == "succeeded"
    with ui_socket(embedded_app, "page=activity") as ws:
        assert f'id="recent-{info["id"]}"' not in ws.recv(10)
    with ui_socket(embedded_app, "page=activity&jobs=all") as ws:
        assert f'id="recent-{info["id"]}"' in ws.recv(10)
