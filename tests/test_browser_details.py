"""The pages in a real browser, for what only a browser shows: how the System
page's cards and a log's error rows are laid out, a pause and a cancel as the
Library shows them live, and pages that log no console error while other
videos' downloads run (the page fixture fails a test on any)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apikit import add_video, finished, unique
from tests.browserkit import add_from_library, log_in, wait_live

pytestmark = pytest.mark.browser


def test_the_system_cards_show_each_label_above_its_number(page):
    log_in(page, "staff")
    page.goto("/system/")
    cards = page.locator(".counts article")
    expect(cards).to_have_count(4)
    for card in cards.all():
        label, number = card.locator("small").bounding_box(), card.locator("strong").bounding_box()
        assert number["y"] >= label["y"] + label["height"] - 1, (label, number)


def test_a_logs_error_rows_stay_table_rows_in_line_with_the_others(page, media, embedded_app):
    client = embedded_app.client("alice")
    started = client.post(
        "/api/jobs", json={"kind": "download_video", "url": media.url(unique("media/gone.mp4"))}
    )
    job = finished(client, started.json()["id"])
    assert job["status"] == "failed", job
    log_in(page)
    page.goto(f"/jobs/{job['id']}/")
    error = page.locator("table.log tr.error").first
    expect(error).to_be_visible()
    assert error.evaluate("row => getComputedStyle(row).display") == "table-row"
    first = page.locator("table.log tr").first.locator("td")
    for cell, other in zip(error.locator("td").all(), first.all(), strict=True):
        assert cell.bounding_box()["x"] == pytest.approx(other.bounding_box()["x"], abs=1)


def test_a_paused_download_says_so_until_the_banner_resumes_it(page, media, embedded_app):
    staff = embedded_app.client("staff")
    assert staff.post("/api/queue/pause").json()["paused"] is True
    try:
        log_in(page, "staff")
        banner = page.locator("#paused-banner")
        expect(banner).to_contain_text("Downloads are paused.")
        row = add_from_library(page, media.url(unique("media/clip.mp4")))
        expect(row.locator(".badge")).to_have_text("Paused")
        expect(row.locator(".state")).not_to_contain_text("Downloading")

        banner.get_by_role("button", name="Resume downloads").click()
        expect(banner).to_have_count(0)
        wait_live(page)
        expect(row.locator(".badge")).to_have_text("Downloaded", timeout=30_000)
    finally:
        staff.post("/api/queue/resume")


def test_a_download_cancelled_from_the_library_says_cancelled(page, media):
    log_in(page)
    row = add_from_library(page, media.url(unique("media/long.mp4?rate=30000")))
    expect(row.locator(".badge")).to_have_text("Downloading")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".badge")).to_have_text("Cancelled")
    expect(row.get_by_role("button", name="Download")).to_be_visible()
    page.reload()
    expect(row.locator(".badge")).to_have_text("Cancelled")


def test_pages_log_no_errors_while_videos_they_do_not_show_change(page, media, embedded_app):
    """Live fragments for rows a page does not show (another status, another
    video) are left out quietly, and the admin's /favicon.ico is no 404."""
    client = embedded_app.client("alice")
    shown = add_video(client, media.url(unique("media/clip.mp4")))
    finished(client, shown["job_id"])
    log_in(page)
    for path in ("/?status=failed", f"/videos/{shown['id']}/", "/activity/"):
        page.goto(path)
        wait_live(page)
        video = add_video(client, media.url(unique("media/clip.mp4?rate=300000")))
        job = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
        assert finished(client, job)["status"] == "succeeded"
    page.goto("/admin/")  # its pages name no icon: the browser asks for /favicon.ico
    page.wait_for_load_state("networkidle")
