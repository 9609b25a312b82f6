"""The API keys page in a real browser: a new key is copied with its button,
under a Content Security Policy that forbids inline scripts (the page
fixture fails the test on any console error, a blocked script included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browserkit import log_in

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
