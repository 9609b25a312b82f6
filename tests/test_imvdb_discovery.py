"""Checking an artist on IMVDb in a running MVidarr, in each mode, against a
local IMVDb (tests.imvdbkit) whose YouTube and Vimeo ids lead to the local
media server: the videos found become wanted videos once, and download for
real with auto-download on."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.apikit import add_video, finished, wait_for
from tests.browserkit import log_in, page_on
from tests.imvdbkit import FakeImvdb, FakeVideo, links
from tests.integrationkit import Answer
from tests.live import LiveApp
from videos.discovery import NO_KEY

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def imvdb():
    with FakeImvdb() as fake:
        yield fake


@pytest.fixture(scope="module", params=["embedded", "redis"])
def imvdb_app(request, imvdb, media):
    env = {
        "MVIDARR_IMVDB_API_KEY": imvdb.key,
        "MVIDARR_IMVDB_URL": imvdb.api_url,
        "MVIDARR_IMVDB_SOURCE_LINKS": links(media),
        "MVIDARR_RETRY_DELAY": "1",
    }
    with LiveApp(request.param, extra_env=env) as app:
        yield app


def band(imvdb, videos) -> str:
    """A new artist on the local IMVDb (a name no other test uses)."""
    name = f"Band {uuid.uuid4().hex[:8]}"
    imvdb.add_artist(name, videos)
    return name


def artist_of(client, name: str, **fields) -> dict:
    response = client.post("/api/artists", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def check(client, artist_id: int) -> dict:
    response = client.post(f"/api/artists/{artist_id}/check")
    assert response.status_code == 202, response.text
    return finished(client, response.json()["job_id"])


def videos_of(client, artist_id: int) -> list[dict]:
    return client.get("/api/videos", params={"artist_id": artist_id}).json()["items"]


def test_a_check_adds_each_video_with_a_source_once_with_its_year_and_director(
    imvdb_app, imvdb, media
):
    tag = uuid.uuid4().hex[:8]
    videos = [
        FakeVideo("First", 2001, ("Ann Director",), (("youtube", f"{tag}-1"),)),
        FakeVideo("Second", 2003, ("Bo", "Cy"), (("vimeo", f"{tag}-2"), ("youtube", "x"))),
        FakeVideo("Third", None, (), (("youtube", f"{tag}-3"),)),
        FakeVideo("Had It", 1999, (), (("youtube", f"{tag}-4"),)),
        FakeVideo("Nowhere", 2005, ("Dee",)),  # no source to fetch
        FakeVideo("Elsewhere", 2006, (), (("dailymotion", "x9"),)),
    ]
    name = band(imvdb, videos)
    alice = imvdb_app.client("alice")
    clip = media.url("media/clip.mp4")
    artist = artist_of(alice, name)
    had = add_video(alice, f"{clip}?key=yt-{tag}-4", title="Had It", artist=name)
    assert had["artist_id"] == artist["id"]

    job = check(alice, artist["id"])
    assert job["status"] == "succeeded", job
    assert job["label"] == f"Check {name}"
    assert job["result"]["detail"] == "3 new of 6 on IMVDb"
    found = {v["title"]: v for v in videos_of(alice, artist["id"])}
    assert set(found) == {"First", "Second", "Third", "Had It"}
    assert found["First"]["url"] == f"{clip}?key=yt-{tag}-1"
    assert found["Second"]["url"] == f"{clip}?key=vimeo-{tag}-2"  # the primary source
    assert [found[t]["year"] for t in ("First", "Second", "Third")] == [2001, 2003, None]
    assert [found[t]["director"] for t in ("First", "Second")] == ["Ann Director", "Bo, Cy"]
    assert {found[t]["status"] for t in ("First", "Second", "Third")} == {"wanted"}
    assert found["Had It"]["id"] == had["id"]
    # The artist was found by name, and keeps its IMVDb id.
    entity = next(a for a in imvdb.artists.values() if a.name == name)
    assert alice.get(f"/api/artists/{artist['id']}").json()["imvdb_id"] == entity.id

    asked, searched = len(imvdb.requests("/video/")), len(imvdb.requests("/search/"))
    again = check(alice, artist["id"])
    assert again["result"]["detail"] == "0 new of 6 on IMVDb"
    assert len(videos_of(alice, artist["id"])) == 4
    # Only the two videos without a source MVidarr can fetch are asked about again.
    assert len(imvdb.requests("/video/")) == asked + 2
    assert len(imvdb.requests("/search/")) == searched
    # A video found once is never found again, even once deleted.
    assert alice.delete(f"/api/videos/{found['First']['id']}").status_code == 204
    assert check(alice, artist["id"])["result"]["detail"] == "0 new of 6 on IMVDb"
    assert "First" not in {v["title"] for v in videos_of(alice, artist["id"])}


def test_auto_download_downloads_what_a_check_finds(imvdb_app, imvdb, media):
    tag = uuid.uuid4().hex[:8]
    videos = [FakeVideo(f"Song {n}", 2010 + n, (), (("youtube", f"{tag}-{n}"),)) for n in (1, 2)]
    alice = imvdb_app.client("alice")
    artist = artist_of(alice, band(imvdb, videos), auto_download=True)
    job = check(alice, artist["id"])
    assert job["result"]["detail"] == "2 new of 2 on IMVDb"

    def downloaded():
        found = videos_of(alice, artist["id"])
        return found if all(v["status"] == "downloaded" for v in found) else None

    done = wait_for(downloaded, timeout=120)
    assert sorted(v["title"] for v in done) == ["Song 1", "Song 2"]
    assert all(v["file"] and v["file_size"] for v in done)
    assert media.stats(f"yt-{tag}-1") >= 1 and media.stats(f"yt-{tag}-2") >= 1


def test_a_rate_limited_imvdb_is_waited_for_and_a_server_error_asked_again(imvdb_app, imvdb):
    videos = [FakeVideo("Only", 2020, (), (("youtube", uuid.uuid4().hex),))]
    alice = imvdb_app.client("alice")
    artist = artist_of(alice, band(imvdb, videos))
    before = len(imvdb.calls)
    imvdb.trouble = [Answer(429, None, {"Retry-After": "1"}), Answer(500, {"error": "oops"})]
    job = check(alice, artist["id"])
    assert job["status"] == "succeeded" and job["attempts"] == 1, job
    assert job["result"]["new"] == 1
    limited, failed, searched = imvdb.calls[before : before + 3]
    assert searched.path == "/api/v1/search/entities"
    assert failed.at - limited.at >= 1.0


def test_a_refused_key_fails_the_check_in_plain_words(imvdb_app, imvdb):
    alice = imvdb_app.client("alice")
    artist = artist_of(alice, band(imvdb, []))
    right, imvdb.key = imvdb.key, "another-key"
    try:
        job = check(alice, artist["id"])
    finally:
        imvdb.key = right
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"] == "IMVDb refused the API key (HTTP 401): check it on the Settings page"
    assert right not in str(job)


def test_another_users_artist_is_not_found(imvdb_app):
    artist = artist_of(imvdb_app.client("alice"), f"Private {uuid.uuid4().hex[:8]}")
    response = imvdb_app.client("bob").post(f"/api/artists/{artist['id']}/check")
    assert response.status_code == 404
    jobs = imvdb_app.client("staff").get("/api/jobs", params={"kind": "check_artist"}).json()
    assert all(job["subject"] != f"artist:{artist['id']}" for job in jobs)


def test_without_a_key_a_check_is_refused_with_a_clear_detail(app):
    alice = app.client("alice")
    artist = artist_of(alice, f"Keyless {uuid.uuid4().hex[:8]}")
    response = alice.post(f"/api/artists/{artist['id']}/check")
    assert response.status_code == 400
    assert response.json() == {"detail": NO_KEY}
    assert "IMVDb API key" in NO_KEY and "followed source" in NO_KEY


@pytest.mark.browser
@pytest.mark.parametrize("imvdb_app", ["embedded"], indirect=True)
def test_check_now_on_the_artist_page_shows_the_check_live(browser, console, imvdb_app, imvdb):
    videos = [
        FakeVideo(f"Song {n}", 2000 + n, (), (("youtube", uuid.uuid4().hex),)) for n in (1, 2)
    ]
    name = band(imvdb, videos)
    artist = artist_of(imvdb_app.client("alice"), name)
    imvdb.trouble = [Answer(429, None, {"Retry-After": "1"})]  # time to see it queued
    with page_on(browser, imvdb_app, console) as page:
        log_in(page)
        page.goto(f"/artists/{artist['id']}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        page.get_by_role("button", name="Check now").click()
        line = page.locator(f"#artist-{artist['id']}-check")
        # No reload: the UI socket redraws the line when the check ends.
        expect(line).to_contain_text("2 new of 2 on IMVDb", timeout=30_000)
        expect(line.get_by_role("link")).to_have_attribute("href", re.compile(r"^/jobs/"))
