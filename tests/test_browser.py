"""The pages in a real browser (Debian's Chromium through Playwright) against a
running MVidarr: downloads started from the Library and watched live, a reload
in the middle of one, cancelling from the Activity page, and a refused URL."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import quote

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from tests.apikit import finished, probe, unique  # noqa: E402
from tests.browserkit import (  # noqa: E402
    WATCH_PROGRESS,
    add_from_library,
    assert_not_reloaded,
    log_in,
    mark_page,
    seen_progress,
    wait_for_js,
    wait_live,
    watch_progress,
)

# The browser, console and page fixtures are tests.browserkit's (see conftest.py):
# a console error (a blocked script, a failed load, an htmx error) fails a test.
pytestmark = pytest.mark.browser


def test_a_download_from_the_library_shows_live_progress_to_the_end(page, media):
    log_in(page)
    mark_page(page)
    url = media.url(unique("media/clip.mp4?rate=100000"))
    row = add_from_library(page, url)
    watch_progress(page, row)
    expect(row.locator(".badge")).to_have_text("Downloading")

    expect(row.locator(".badge")).to_have_text("Downloaded", timeout=30_000)
    values = seen_progress(page)
    rises = sum(1 for a, b in zip(values, values[1:], strict=False) if b > a)
    assert rises >= 2, values
    expect(row.locator("progress")).to_have_count(0)
    # [clip].mp4, or [clip-N].mp4 when another test of the session filed the clip first
    expect(row.locator(".file")).to_contain_text(re.compile(r"\[clip(-\d+)?\]\.mp4"))
    expect(row.get_by_role("button", name="Download again")).to_be_visible()
    assert_not_reloaded(page)
    expect(page.locator("#add-form").get_by_label("Video URL")).to_have_value("")


def test_a_reload_mid_download_shows_it_running_and_it_still_finishes_live(page, media):
    log_in(page)
    url = media.url(unique("media/clip.mp4?rate=120000"))
    row = add_from_library(page, url)
    watch_progress(page, row)
    wait_for_js(page, "window.__progress.row.some(v => v > 0 && v < 60)")

    response = page.reload()
    assert response.ok
    html = response.text()
    row_html = html[html.index(f'id="{row.get_attribute("id")}"') :]
    row_html = row_html[: row_html.index("</article>")]
    assert "Downloading" in row_html and "<progress" in row_html
    expect(row.locator(".badge")).to_have_text("Downloading")
    expect(row.locator("progress")).to_have_count(1)
    mark_page(page)
    wait_live(page)

    expect(row.locator(".badge")).to_have_text("Downloaded", timeout=30_000)
    assert_not_reloaded(page)


def test_cancelling_from_the_activity_page_moves_the_job_to_recent(page, media, embedded_app):
    client = embedded_app.client("alice")
    video = client.post("/api/videos", json={"url": media.url(unique("media/long.mp4?rate=30000"))})
    assert video.status_code == 201, video.text
    started = client.post(f"/api/videos/{video.json()['id']}/download")
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]

    log_in(page)
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    wait_live(page)
    mark_page(page)
    running = page.locator(f"#running #job-{job_id}")
    expect(running).to_be_visible()
    page.evaluate(WATCH_PROGRESS, [f"#job-{job_id} progress", "row"])
    wait_for_js(page, "window.__progress.row.filter(v => v > 0).length >= 2")
    values = [v for v in seen_progress(page) if v > 0]
    assert values[-1] > values[0], values

    cancelled_at = time.monotonic()
    running.get_by_role("button", name="Cancel").click()
    expect(page.locator(f"#running #job-{job_id}")).to_have_count(0)
    recent = page.locator(f"#recent #recent-{job_id}")
    expect(recent.locator(".badge")).to_have_text("cancelled")
    assert time.monotonic() - cancelled_at < 5
    assert_not_reloaded(page)
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"


def test_a_refused_url_shows_its_error_in_the_form_without_a_reload(page, media, console):
    console.allow(r"status of 422")  # the refused form comes back as 422 on purpose
    log_in(page)
    mark_page(page)
    form = page.locator("#add-form")
    form.get_by_label("Video URL").fill("ftp://example.com/clip.mp4")
    form.get_by_role("button", name="Add").click()
    expect(form.get_by_role("alert")).to_have_text("Only http:// and https:// URLs are supported.")
    expect(form.get_by_label("Video URL")).to_have_value("ftp://example.com/clip.mp4")
    expect(form.get_by_label("Video URL")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#video-rows a[href^='ftp:']")).to_have_count(0)
    assert_not_reloaded(page)


def start_slow_download(client, media) -> str:
    """A download (and no metadata job, so that only downloads run)."""
    url = media.url(unique("media/long.mp4?rate=30000"))
    started = client.post("/api/jobs", json={"kind": "download_video", "url": url})
    assert started.status_code == 202, started.text
    return started.json()["id"]


def test_the_dashboard_follows_downloads_and_a_cancel_live(page, embedded_app, media):
    client = embedded_app.client("alice")
    log_in(page)
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    wait_live(page)
    mark_page(page)

    def count(status: str):
        return page.locator(f"#count-{status} strong")

    running_before = int(count("running").inner_text())
    cancelled_before = int(count("cancelled").inner_text())
    first, second = start_slow_download(client, media), start_slow_download(client, media)
    for job_id in (first, second):
        expect(page.locator(f"#running #job-{job_id}, #queued #job-{job_id}")).to_have_count(1)
    expect(count("running")).to_have_text(str(running_before + 2))
    row = page.locator(f"#running #job-{first}")
    expect(row.locator(".attempt")).to_have_text("attempt 1 of 3")
    page.evaluate(WATCH_PROGRESS, [f"#job-{first} progress", "row"])
    wait_for_js(page, "window.__progress.row.filter(v => v > 0).length >= 2")
    values = [v for v in page.evaluate("window.__progress.row") if v > 0]
    assert values[-1] > values[0], values
    expect(row.locator(".speed")).not_to_be_empty()

    row.get_by_role("button", name="Cancel").click()
    expect(page.locator(f"#running #job-{first}")).to_have_count(0)
    expect(page.locator(f"#recent #recent-{first} .badge")).to_have_text("cancelled")
    expect(count("cancelled")).to_have_text(str(cancelled_before + 1))
    expect(count("running")).to_have_text(str(running_before + 1))
    expect(page.locator(f"#running #job-{second}")).to_be_visible()

    # Cancelled elsewhere (the API): the page follows without a click.
    assert client.post(f"/api/jobs/{second}/cancel").status_code == 202
    expect(page.locator(f"#recent #recent-{second} .badge")).to_have_text("cancelled")
    expect(count("running")).to_have_text(str(running_before))
    assert_not_reloaded(page)


def test_the_video_page_plays_the_downloaded_file_over_range_requests(page, media, embedded_app):
    client = embedded_app.client("alice")
    started = client.post(
        "/api/jobs", json={"kind": "download_video", "url": media.url(unique("media/clip.mp4"))}
    )
    assert started.status_code == 202, started.text
    job = finished(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    video_id = job["subject"].partition(":")[2]
    duration = float(
        probe(embedded_app.data_dir / "library" / job["result"]["file"])["format"]["duration"]
    )

    files: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            files.append((r.status, r.headers.get("content-range", "")))
            if r.url.endswith(f"/videos/{video_id}/file")
            else None
        ),
    )
    log_in(page)
    page.goto(f"/videos/{video_id}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    wait_for_js(page, "document.querySelector('#player').readyState >= 1")
    assert abs(page.evaluate("document.querySelector('#player').duration") - duration) <= 0.5
    assert any(status == 206 and crange.startswith("bytes ") for status, crange in files), files
    expect(page.locator(f'#video-jobs a[href="/jobs/{job["id"]}/"]')).to_be_visible()


def test_the_video_page_follows_a_download_live(page, media, embedded_app):
    client = embedded_app.client("alice")
    video = client.post(
        "/api/videos", json={"url": media.url(unique("media/clip.mp4?rate=100000"))}
    )
    assert video.status_code == 201, video.text
    video_id = video.json()["id"]
    finished(client, video.json()["job_id"])  # the info job, so the download is the only one
    log_in(page)
    page.goto(f"/videos/{video_id}/")
    wait_live(page)
    mark_page(page)
    expect(page.locator("#player")).to_have_count(0)
    started = client.post(f"/api/videos/{video_id}/download")
    assert started.status_code == 202, started.text

    state = page.locator(f"#video-{video_id}-state")
    expect(state.locator(".badge")).to_have_text("Downloading")
    expect(state.locator(".badge")).to_have_text("Downloaded", timeout=30_000)
    expect(state.locator(".file")).to_contain_text(".mp4")
    assert_not_reloaded(page)


def test_the_artists_pages_lead_to_an_artists_videos_that_download_live(page, media, embedded_app):
    client = embedded_app.client("alice")
    band = f"Browser Band {uuid.uuid4().hex[:6]}"
    url = media.url(unique("media/clip.mp4?rate=100000"))
    video = client.post("/api/videos", json={"url": url, "artist": band, "title": "Live Song"})
    assert video.status_code == 201, video.text
    finished(client, video.json()["job_id"])  # the info job, so the download is the only one
    video_id = video.json()["id"]

    log_in(page)
    page.get_by_role("link", name="Artists").click()
    expect(page.get_by_role("heading", name="Artists")).to_be_visible()
    page.get_by_role("link", name=band).click()
    expect(page.get_by_role("heading", name=band)).to_be_visible()
    row = page.locator(f"#video-{video_id}")
    expect(row.get_by_role("link", name="Live Song")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Wanted")
    wait_live(page)
    mark_page(page)

    row.get_by_role("button", name="Download").click()
    expect(row.locator(".badge")).to_have_text("Downloaded", timeout=30_000)
    expect(row.locator(".file")).to_contain_text(f"{band}/{band} - Live Song")


def test_a_feed_added_in_the_library_turns_into_its_playlist_live(page, media, embedded_app):
    log_in(page)
    mark_page(page)
    key = unique("")[5:]
    band = f"Band {key[-6:]}"
    titles = quote(f"{band} - First (Official Video)|{band} - Second [HD]")
    url = media.url(f"feed.xml?n=2&key={key}&titles={titles}")
    row = add_from_library(page, url)
    expect(row.locator(".badge")).to_have_text("Playlist", timeout=30_000)
    follow = row.get_by_role("button", name="Follow it")
    expect(follow).to_have_attribute("href", re.compile(r"^/jobs/[0-9a-f-]{36}/$"))
    expect(row).to_contain_text("Test feed (clip.mp4)")
    assert_not_reloaded(page)
    playlist_id = follow.get_attribute("href").split("/")[2]
    finished(embedded_app.client("alice"), playlist_id, timeout=60)
    page.reload()
    expect(page.locator(f"article.video a.source[href*='{key}']")).to_have_count(2)
    expect(page.locator(f'article.video a.source[href="{url}"]')).to_have_count(0)
    # Each video under its artist, named without the noise.
    page.goto("/artists/")
    page.get_by_role("link", name=band).click()
    shown = page.locator("#video-rows article.video .title")
    expect(shown).to_have_count(2)
    assert sorted(shown.all_inner_texts()) == ["First", "Second"]


def test_an_unsupported_url_added_in_the_library_fails_its_row_live(page, media):
    log_in(page)
    mark_page(page)
    row = add_from_library(page, media.url(unique("blob/notes.txt?type=text/plain")))
    expect(row.locator(".badge")).to_have_text("Failed", timeout=30_000)
    expect(row.locator(".error")).to_contain_text("Nothing to download here")
    expect(row.get_by_role("button", name="Ignore")).to_be_visible()
    assert_not_reloaded(page)


def test_the_selection_is_ignored_then_deleted_after_a_confirm(page, media, embedded_app):
    client = embedded_app.client("alice")
    ids = []
    for _ in range(2):
        added = client.post("/api/videos", json={"url": media.url(unique("media/clip.mp4"))})
        assert added.status_code == 201, added.text
        ids.append(added.json()["id"])
    log_in(page)
    mark_page(page)
    rows = [page.locator(f"#video-{pk}") for pk in ids]
    for row in rows:
        row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Ignore selected").click()
    expect(page.locator("#flashes")).to_contain_text("Ignored 2 videos")
    for row in rows:
        expect(row.locator(".badge")).to_have_text("Ignored")
        expect(row.get_by_role("button", name="Unignore")).to_be_visible()
    assert_not_reloaded(page)

    for row in rows:
        row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Delete selected…").click()
    confirm = page.locator("#flashes #delete-confirm")
    expect(confirm).to_contain_text("These videos leave your library")
    assert_not_reloaded(page)
    confirm.get_by_role("button", name="Delete 2 videos").click()
    expect(page.locator("#flashes")).to_contain_text("Deleted 2 videos.")
    for row in rows:
        expect(row).to_have_count(0)
    for pk in ids:
        assert client.get(f"/api/videos/{pk}").status_code == 404


def test_a_video_deleted_while_downloading_leaves_the_open_library_live(page, media, embedded_app):
    client = embedded_app.client("alice")
    started = client.post(
        "/api/jobs",
        json={"kind": "download_video", "url": media.url(unique("media/long.mp4?rate=30000"))},
    )
    assert started.status_code == 202, started.text
    video_id = started.json()["subject"].partition(":")[2]
    log_in(page)
    mark_page(page)
    row = page.locator(f"#video-{video_id}")
    expect(row.locator(".badge")).to_have_text("Downloading")
    assert client.delete(f"/api/videos/{video_id}").status_code == 204
    expect(row).to_have_count(0)
    assert_not_reloaded(page)
