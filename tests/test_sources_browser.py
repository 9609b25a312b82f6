"""Following a source in a real browser: its first videos arrive live."""

from __future__ import annotations

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from tests.browserkit import assert_not_reloaded, log_in, mark_page, wait_live  # noqa: E402
from tests.sourcekit import feed  # noqa: E402

pytestmark = pytest.mark.browser


def test_a_source_added_from_the_page_shows_its_first_videos_arriving(page, media):
    url, _ = feed(media, titles=["Band - Arrives", "Band - Also Arrives"], durations=[], delay=2)
    log_in(page)
    page.get_by_role("link", name="Sources").click()
    form = page.locator("#add-source")
    form.get_by_label("URL").fill(url)
    form.get_by_label("Check every (minutes)").fill("60")
    form.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("feed.xml")  # no name yet
    expect(page.locator(".check-job")).to_be_visible()  # the first check, running
    expect(page.locator("#no-videos")).to_be_visible()
    wait_live(page)
    mark_page(page)
    rows = page.locator("#video-rows article.video .title")
    expect(rows).to_have_text(["Also Arrives", "Arrives"], timeout=30_000)
    expect(page.locator(".last-result")).to_have_text("2 new of 2")
    expect(page.locator("#video-rows .badge.downloaded")).to_have_count(2, timeout=60_000)
    assert_not_reloaded(page)
    page.get_by_role("button", name="Check now").click()
    expect(page.locator(".last-result")).to_have_text("Feed unchanged", timeout=30_000)
