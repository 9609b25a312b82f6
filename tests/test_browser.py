"""The pages in a real browser (Debian's Chromium through Playwright) against a
running MVidarr: downloads started from the Library and watched live, a reload
in the middle of one, cancelling from the Activity page, and a refused URL."""

from __future__ import annotations

import re
import time
import uuid

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from tests.live import PASSWORD  # noqa: E402

pytestmark = pytest.mark.browser

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


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:
    """Collects what the page's Content-Security-Policy blocked (should stay empty:
    the pages must work with scripts from our own origin only)."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return blocked


def wait_for_js(page, expression: str, timeout: float = 15) -> None:
    """``page.wait_for_function`` without its in-page eval, which the CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


@pytest.fixture
def page(browser, embedded_app):
    context = browser.new_context(base_url=embedded_app.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    blocked = csp_violations(page)
    yield page
    context.close()
    assert blocked == []


def unique(path: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}key={uuid.uuid4().hex}"


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
    row = page.locator("article.video", has=page.locator(f'a[href="{url}"]'))
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
    expect(row.locator(".file")).to_contain_text("[clip].mp4")
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


def test_a_refused_url_shows_its_error_in_the_form_without_a_reload(page, media):
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
