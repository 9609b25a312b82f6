"""The Library's add box against a running MVidarr, with real yt-dlp and the
local media server: a feed pasted into the box becomes a playlist job (not a
video called "Feed"), a video stays a video, an unsupported URL says so, and
ignored videos stay out of playlists. The API keeps a playlist URL a video."""

from __future__ import annotations

import re
import uuid

from tests.apikit import add_video, finished, unique, videos_from, wait_for, web_session
from tests.pagekit import HTMX
from videos.tasks import NOT_A_VIDEO, UNSUPPORTED


def add_in_library(web, url: str, download: bool = True) -> int:
    """Submit the add box as the page does (htmx); the new row's video id."""
    data = {"url": url, "csrfmiddlewaretoken": web.cookies["csrftoken"]}
    if download:
        data["download"] = "on"
    response = web.post("/videos/add/", data=data, headers=HTMX)
    assert response.status_code == 200, response.text
    return int(re.search(r'<article id="video-(\d+)"', response.text).group(1))


def info_job(client, video_id: int) -> dict:
    """The metadata job of a video added in the Library, once it has finished."""

    def found():
        jobs = client.get("/api/jobs", params={"kind": "extract_video_info"}).json()
        return next((j for j in jobs if j["subject"] == f"video:{video_id}"), None)

    return finished(client, wait_for(found)["id"])


def jobs_of(client, video_id: int, kind: str = "download_video") -> list[dict]:
    jobs = client.get("/api/jobs", params={"kind": kind, "limit": 500}).json()
    return [j for j in jobs if j["subject"] == f"video:{video_id}"]


def test_a_feed_in_the_add_box_becomes_a_playlist_job_whose_entries_are_videos(app, media):
    client, web = app.client("alice"), web_session(app)
    key = uuid.uuid4().hex
    url = media.url(f"feed.xml?n=3&key={key}")
    stand_in = add_in_library(web, url)

    info = info_job(client, stand_in)
    assert info["status"] == "succeeded", info
    assert info["result"]["url"] == url and info["result"]["title"] == "Test feed (clip.mp4)"
    assert client.get(f"/api/videos/{stand_in}").status_code == 404  # the stand-in is gone
    playlist = finished(client, info["result"]["playlist_job_id"], timeout=90)
    assert playlist["kind"] == "download_playlist" and playlist["status"] == "succeeded"
    assert playlist["children"]["succeeded"] == 3
    videos = videos_from(client, key)
    assert len(videos) == 3 and {v["status"] for v in videos} == {"downloaded"}
    assert url not in {v["url"] for v in videos}
    assert not {"Feed", "Test feed (clip.mp4)"} & {v["title"] for v in videos}


def test_a_video_url_in_the_add_box_is_read_then_downloaded(app, media):
    client, web = app.client("alice"), web_session(app)
    video_id = add_in_library(web, media.url(unique("page/clip.html")))
    info = info_job(client, video_id)
    assert info["status"] == "succeeded" and info["result"]["video_id"] == video_id

    def downloaded():
        video = client.get(f"/api/videos/{video_id}").json()
        return video["status"] == "downloaded" and video

    video = wait_for(downloaded, timeout=60)
    assert video["title"].startswith("Test video clip") and video["file"].endswith(".mp4")
    assert len(jobs_of(client, video_id)) == 1


def test_without_download_now_a_video_is_only_read(embedded_app, media):
    client, web = embedded_app.client("alice"), web_session(embedded_app)
    video_id = add_in_library(web, media.url(unique("media/clip.mp4")), download=False)
    assert info_job(client, video_id)["status"] == "succeeded"
    assert client.get(f"/api/videos/{video_id}").json()["status"] == "wanted"
    assert jobs_of(client, video_id) == []


def test_an_unsupported_url_in_the_add_box_says_so_plainly(embedded_app, media):
    client, web = embedded_app.client("alice"), web_session(embedded_app)
    video_id = add_in_library(web, media.url(unique("blob/notes.txt?type=text/plain")))
    info = info_job(client, video_id)
    assert info["status"] == "failed" and info["error_code"] == "unsupported"
    video = client.get(f"/api/videos/{video_id}").json()
    assert video["status"] == "failed" and video["error"] == UNSUPPORTED
    assert jobs_of(client, video_id) == []
    row = web.get("/").text
    row = row[row.index(f'id="video-{video_id}"') :]
    assert "Nothing to download here" in row[: row.index("</article>")]


def test_a_playlist_leaves_ignored_videos_out(embedded_app, media):
    client, web = embedded_app.client("alice"), web_session(embedded_app)
    key = uuid.uuid4().hex
    url = media.url(f"feed.xml?n=2&key={key}")
    info = info_job(client, add_in_library(web, url, download=False))
    listed = finished(client, info["result"]["playlist_job_id"])
    assert listed["status"] == "succeeded" and listed["children"]["total"] == 0
    ignored, wanted = videos_from(client, key)
    assert {ignored["status"], wanted["status"]} == {"wanted"}
    assert client.post(f"/api/videos/{ignored['id']}/ignore").json()["status"] == "ignored"

    started = client.post("/api/jobs", json={"kind": "download_playlist", "url": url})
    assert started.status_code == 202, started.text
    parent = finished(client, started.json()["id"], timeout=60)
    assert parent["status"] == "succeeded" and parent["children"]["total"] == 1
    assert client.get(f"/api/videos/{wanted['id']}").json()["status"] == "downloaded"
    assert client.get(f"/api/videos/{ignored['id']}").json()["status"] == "ignored"
    assert jobs_of(client, ignored["id"]) == []


def test_the_api_keeps_a_playlist_url_a_video_and_says_what_it_is(embedded_app, media):
    client = embedded_app.client("alice")
    key = uuid.uuid4().hex
    url = media.url(f"feed.xml?n=2&key={key}")
    video = add_video(client, url)
    assert finished(client, video["job_id"])["status"] == "succeeded"
    found = client.get(f"/api/videos/{video['id']}").json()
    assert found["status"] == "failed" and found["error"] == NOT_A_VIDEO
    # Downloading it anyway fails at once, without fetching a single entry.
    job = finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    assert job["status"] == "failed" and job["error_code"] == "playlist"
    assert "Test feed (clip.mp4)" in job["error"]
    # The key counts the feed's own reads too: one to read the video's
    # metadata, one by the download; no entry was fetched.
    assert media.stats(key) == 2
