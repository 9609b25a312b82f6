"""The pages' own socket (``/ws/ui/``) against a running MVidarr: a video's
page hears only of that video, the Activity page's redraws keep the view
it was opened with (metadata jobs shown or not), and a status fragment slow
to render holds back no progress."""

from __future__ import annotations

import time

import psycopg
from websockets.sync.client import connect

from tests.apikit import add_video, finished, unique


def ui_socket(app, query: str):
    return connect(f"{app.ws_url}/ws/ui/?{query}", additional_headers=app.ws_headers("alice"))


def received(ws, seconds: float, until: str = "") -> list[str]:
    """What the socket sends within ``seconds``, or until a message holds ``until``."""
    messages, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            messages.append(ws.recv(left))
        except TimeoutError:
            break
        if until and until in messages[-1]:
            break
    return messages


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


def test_progress_goes_on_while_another_videos_status_fragment_cannot_render(redis_app, media):
    """A download's progress keeps coming on the Library page's socket while
    the fragment of another video's new status waits for the database (the
    table of artists, which it reads, is locked: PostgreSQL, so scaled mode);
    that fragment follows once the lock is gone."""
    client = redis_app.client("alice")
    slow, other = (
        add_video(client, media.url(unique(path)))
        for path in ("media/long.mp4?rate=100000", "media/clip.mp4")
    )
    for video in (slow, other):
        finished(client, video["job_id"])
    with ui_socket(redis_app, "page=library") as ws:
        job = client.post(f"/api/videos/{slow['id']}/download").json()["job_id"]
        assert f'id="progress-{job}"' in received(ws, 30, until=f'id="progress-{job}"')[-1]
        with psycopg.connect(redis_app.env["DATABASE_URL"]) as db:
            db.execute("LOCK TABLE videos_artist IN ACCESS EXCLUSIVE MODE")
            client.post(f"/api/videos/{other['id']}/download")
            while_locked = received(ws, 3)
        then = received(ws, 30, until=f'id="video-{other["id"]}-state"')
    state = f'id="video-{other["id"]}-state"'
    assert sum(m.startswith(f'<div id="progress-{job}"') for m in while_locked) >= 4
    assert not any(state in m for m in while_locked)
    assert state in then[-1]
