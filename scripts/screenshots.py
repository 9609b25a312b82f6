"""The README's screenshots, taken from the real app: a library with
downloaded, downloading, wanted and failed videos (thumbnails made by the
app itself from frames), in a real browser.

    .venv/bin/python scripts/screenshots.py [--out docs]

It runs MVidarr in embedded mode against the local media server, as the
tests and benchmarks do, and writes ``library.png``, ``artist.png`` and
``video.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from bench.common import running  # noqa: E402
from tests.apikit import finished, unique  # noqa: E402
from tests.browserkit import CHROMIUM, CHROMIUM_ARGS, log_in  # noqa: E402

DOWNLOADED = [
    ("Aurora Lane", "Northern Lights"),
    ("Aurora Lane", "Paper Boats"),
    ("The Velvet Hours", "Slow Motion Summer"),
    ("Kito & Mara", "Neon Rain (feat. Juno)"),
    ("Low Tide Radio", "Static Hearts"),
]
WIDTH = 1280
SHOTS = ("library.png", "artist.png", "video.png")


def fill(app, media) -> None:
    """Downloads that finish (with thumbnails), one still running, one wanted, one failed."""
    client = app.client("alice")
    jobs = []
    for artist, title in DOWNLOADED:
        body = {"url": media.url(unique("media/heavy.mp4")), "artist": artist, "title": title}
        video = client.post("/api/videos", json=body).json()
        jobs.append(client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    for job_id in jobs:
        finished(client, job_id, timeout=300)
    wanted = {"url": media.url(unique("media/clip.mp4")), "artist": "Aurora Lane",
              "title": "Glasshouse (Live)"}  # fmt: skip
    client.post("/api/videos", json=wanted)
    failed = {"url": media.url(unique("media/clip.mp4?status=404")),
              "artist": "Low Tide Radio", "title": "B-Side"}  # fmt: skip
    video = client.post("/api/videos", json=failed).json()
    finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    slow = {"url": media.url(unique("media/long.mp4?rate=60000")), "artist": "The Velvet Hours",
            "title": "Afterglow"}  # fmt: skip
    video = client.post("/api/videos", json=slow).json()
    client.post(f"/api/videos/{video['id']}/download")
    time.sleep(8)  # thumbnails land; the slow one is part way


def shoot(app, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=app.base_url, viewport={"width": WIDTH, "height": 900})
        log_in(page)
        page.goto("/?view=grid")
        expect(page.locator("#video-rows img").first).to_be_visible()
        page.screenshot(path=out / "library.png", full_page=True)
        page.goto("/artists/")
        page.get_by_role("link", name="Aurora Lane").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / "artist.png", full_page=True)
        page.get_by_role("link", name="Northern Lights").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / "video.png", full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with running("embedded") as (app, media):
        fill(app, media)
        shoot(app, args.out)
    print(f"wrote {', '.join(str(args.out / name) for name in SHOTS)}")


if __name__ == "__main__":
    main()
