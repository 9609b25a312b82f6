"""The pages' own socket (``/ws/ui/``) against a running MVidarr: a video's
page hears only of that video, a page hears of a download that finished
before its socket connected, the Activity page's redraws keep the view it
was opened with (metadata jobs shown or not), and a status fragment slow to
render holds back no progress."""

from __future__ import annotations

import html
import re
import time

import psycopg
import pytest
from websockets.sync.client import connect

from tests.apikit import add_video, finished, unique, web_session


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


def test_a_page_hears_of_a_download_that_finished_before_its_socket_connected(embedded_app, media):
    """A job may finish between a page's render and its socket's connect (or
    while a dropped socket reconnects): the socket's first message shows the
    row as it is now, though no job of it is active any more."""
    client = embedded_app.client("alice")
    video = add_video(client, media.url(unique("media/clip.mp4")))
    finished(client, video["job_id"])
    job = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    page = web_session(embedded_app).get("/").text
    assert finished(client, job)["status"] == "succeeded"
    url = html.unescape(re.search(r'ws-connect="([^"]+)"', page)[1])
    headers = embedded_app.ws_headers("alice")
    with connect(f"{embedded_app.ws_url}{url}", additional_headers=headers) as ws:
        first = ws.recv(10)
    state = re.search(rf'<div id="video-{video["id"]}-state".*?</div>', first, re.S)
    assert state and "Downloaded" in state[0], first


@pytest.mark.parametrize("since", ["nan", "inf", "-1e400", "1e308", "-5", "x", "", "9" * 400])
def test_a_socket_that_says_nonsense_for_since_still_works(embedded_app, since):
    with ui_socket(embedded_app, f"page=library&since={since}") as ws:
        received(ws, 0.5)  # a socket that failed to connect is closed: recv raises
        assert ws.ping().wait(5)


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
    table of paused queues, which it reads for a queued job, is locked:
    PostgreSQL, so scaled mode); that fragment follows once the lock is gone.
    Queueing the download reads nothing of that table, so it goes through."""
    client = redis_app.client("alice")
    slow, other = (
        add_video(client, media.url(unique(path)))
        for path in ("media/long.mp4?rate=100000", "media/clip.mp4")
    )
    for video in (slow, other):
        finished(client, video["job_id"])
    with ui_socket(redis_app, "page=library") as ws:
        job = client.post(f"/api/videos/{slow['id']}/download").json()["job_id"]
        # Running (claimed) before the lock: a claim reads the paused queues.
        running = f'id="progress-{job}" class="progress" data-status="running"'
        assert running in received(ws, 30, until=running)[-1]
        with psycopg.connect(redis_app.env["DATABASE_URL"]) as db:
            db.execute("LOCK TABLE jobs_pausedqueue IN ACCESS EXCLUSIVE MODE")
            client.post(f"/api/videos/{other['id']}/download")
            while_locked = received(ws, 3)
        then = received(ws, 30, until=f'id="video-{other["id"]}-state"')
    state = f'id="video-{other["id"]}-state"'
    assert sum(m.startswith(f'<div id="progress-{job}"') for m in while_locked) >= 4
    assert not any(state in m for m in while_locked)
    assert state in then[-1]
