"""The API keys page and a viewer in a real browser: a new key is copied with
its button, under a Content Security Policy that forbids inline scripts; a
viewer follows its owner's library live without a button it cannot use (the
page fixture fails a test on any console error, a blocked script included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apikit import add_video, unique
from tests.browserkit import log_in
from tests.live import PASSWORD

pytestmark = pytest.mark.browser


def test_a_new_key_is_copied_with_the_copy_button_and_then_only_its_prefix_shows(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page)
    page.get_by_role("link", name="Keys").click()
    page.get_by_label("Name").fill("browser script")
    page.get_by_label("control: everything your account may do").check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key-value").input_value()
    assert key.startswith("mvk_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#new-key-copied")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == key
    row = page.locator("#keys tr", has_text="browser script")
    expect(row).to_contain_text("read, control")
    expect(row).to_contain_text("never")
    page.goto("/settings/keys/")
    expect(page.locator("#new-key-value")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(key)


def test_a_viewer_follows_its_owners_library_and_is_told_it_cannot_change_it(
    page, console, embedded_app, media
):
    embedded_app.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        "User = get_user_model(); "
        f"User.objects.filter(username='vera').exists() or "
        f"User.objects.create_user('vera', password={PASSWORD!r})",
    )
    embedded_app.manage("viewer", "vera", "--of", "alice")
    with embedded_app.client("alice") as alice:
        video = add_video(alice, media.url(unique("media/clip.mp4")), title="Shared Song")
    log_in(page, "vera")
    row = page.locator(f"#video-{video['id']}")
    expect(row).to_contain_text("Shared Song")
    expect(row.locator("form")).to_have_count(0)
    expect(page.locator("#add-form")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_have_count(0)
    console.allow(r"status of 403")  # the edit page below answers 403, as it should
    page.goto(f"/videos/{video['id']}/edit/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("may look at this library but not change it")
