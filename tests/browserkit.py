"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright.

The fixtures ``browser``, ``console`` and ``page`` (imported by conftest.py)
give each test a fresh page on the embedded app that fails the test on any
console error it did not expect."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Records in window.__progress[key] each new value of the <progress> matching
# `selector`, looking it up afresh on every DOM change as htmx swaps it out.
WATCH_PROGRESS = """([selector, key]) => {
  const seen = (window.__progress = window.__progress || {});
  seen[key] = [];
  const sample = () => {
    const bar = document.querySelector(selector);
    const value = bar && bar.hasAttribute("value") ? bar.value : null;
    const list = seen[key];
    if (value !== null && list[list.length - 1] !== value) list.push(value);
  };
  sample();
  new MutationObserver(sample).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["value"],
  });
}"""


def log_in(page, user: str = "alice") -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    wait_live(page)


def wait_live(page) -> None:
    """The page's live-update socket is connected."""
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def add_from_library(page, url: str):
    """Paste a URL into the Library form, submit, and return the new row."""
    form = page.locator("#add-form")
    expect(form.get_by_label("Download now")).to_be_checked()
    form.get_by_label("Video URL").fill(url)
    form.get_by_role("button", name="Add").click()
    # The URL is the title of the row's source link, and of the notice that
    # replaces the row when the URL is a playlist (which can come first).
    row = page.locator("article.video", has=page.locator(f'[title="{url}"]'))
    expect(row).to_have_count(1)
    return page.locator(f"#{row.get_attribute('id')}")


def watch_progress(page, row) -> None:
    page.evaluate(WATCH_PROGRESS, [f"#{row.get_attribute('id')} progress", "row"])


def seen_progress(page) -> list[float]:
    return page.evaluate("window.__progress.row")


def mark_page(page) -> None:
    """A flag that only survives while no navigation or reload happens."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page navigated or reloaded"


class Console:
    """A page's console errors and uncaught exceptions: what the Content
    Security Policy blocked, failed loads (a missing favicon), htmx's own
    errors (``htmx:oobErrorNoTarget``) and broken scripts. A test that causes
    one on purpose (a 422 form) says so with ``allow``."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def watch(self, page) -> None:
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"Uncaught {error}"))

    def _message(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def console() -> Console:
    return Console()


@contextlib.contextmanager
def page_on(browser, app, console: Console):
    """A page on ``app``; the test fails on a console error."""
    context = browser.new_context(base_url=app.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console.watch(page)
    yield page
    errors = console.unexpected()  # before closing, which may log errors of its own
    context.close()
    assert errors == [], f"console errors: {errors}"


@pytest.fixture
def page(browser, embedded_app, console):
    """A page on the embedded app; the test fails on a console error."""
    with page_on(browser, embedded_app, console) as page:
        yield page


def wait_for_js(page, expression: str, timeout: float = 15) -> None:
    """``page.wait_for_function`` without its in-page eval, which the CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)
