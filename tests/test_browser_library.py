"""The library in a real browser: search, sort and filter it, switch to the
grid, and edit a video's title to find its file renamed on disk."""

from __future__ import annotations

import uuid

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from tests.apikit import download, finished, unique, wait_for  # noqa: E402
from tests.browserkit import log_in  # noqa: E402

pytestmark = pytest.mark.browser


def test_search_sort_and_filter_the_library(page, media, embedded_app):
    client = embedded_app.client("alice")
    tag = uuid.uuid4().hex[:6]
    for artist, title in [("Zed", "Apple"), ("Abe", "Cherry"), ("Mia", "Banana")]:
        video = client.post(
            "/api/videos",
            json={
                "url": media.url(unique("media/clip.mp4")),
                "artist": f"{artist} {tag}",
                "title": f"{title} {tag}",
            },  # fmt: skip
        ).json()
        finished(client, video["job_id"])
    log_in(page)
    page.get_by_label("Search titles and artists").fill(tag)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#video-rows article.video .title")
    expect(rows).to_have_count(3)
    page.locator("#id_sort").select_option("title")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_text([f"Apple {tag}", f"Banana {tag}", f"Cherry {tag}"])
    page.locator("#id_sort").select_option("artist")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_text([f"Cherry {tag}", f"Banana {tag}", f"Apple {tag}"])
    page.get_by_label("Search titles and artists").fill(f"Mia {tag}")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_text([f"Banana {tag}"])
    page.get_by_role("link", name="Grid").click()
    expect(page.locator("#video-rows.grid-view article.video")).to_have_count(1)
    page.locator("#clear-filters").click()
    expect(page.get_by_label("Search titles and artists")).to_have_value("")


def test_editing_a_title_on_the_video_page_renames_the_file(page, media, embedded_app):
    client = embedded_app.client("alice")
    job = download(client, media.url(unique("media/clip.mp4")), artist="Edit Me", title="Before")
    video_id = job["result"]["video_id"]
    library = embedded_app.data_dir / "library"
    before = library / client.get(f"/api/videos/{video_id}").json()["file"]
    log_in(page)
    page.goto(f"/videos/{video_id}/")
    page.locator("#edit-video").click()
    page.get_by_label("Title").fill("After Edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="After Edit")).to_be_visible()

    def renamed():
        file = client.get(f"/api/videos/{video_id}").json()["file"]
        return "After Edit" in file and file

    after = library / wait_for(renamed, timeout=60)
    assert after.is_file() and after.with_suffix(".nfo").is_file()
    assert not before.exists()


def test_the_search_bar_fits_a_phone_screen(page, embedded_app):
    """The search box and its button sit on one line within a phone's width,
    and the filters wrap below them instead of running off the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    box = page.get_by_label("Search titles and artists").bounding_box()
    button = page.get_by_role("button", name="Search").bounding_box()
    assert abs(button["y"] - box["y"]) < 4 and button["height"] < box["height"] * 1.2
    assert button["x"] + button["width"] <= 390
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
