"""A real download, end to end, in a running MVidarr configured through the
environment: the notification reaches the local endpoint while a dead
target fails only its own job, and Jellyfin and Plex each get one refresh
naming the new file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apikit import download, unique, wait_for
from tests.browserkit import log_in
from tests.integrationkit import FakeJellyfin, FakePlex, Hook, closed_port
from tests.live import LiveApp

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def test_a_real_download_is_announced_and_refreshes_each_media_server_once(media):
    with Hook() as hook, FakeJellyfin() as jellyfin, FakePlex() as plex:
        dead = f"json://127.0.0.1:{closed_port()}/dead"
        env = {
            "MVIDARR_NOTIFY_URLS": f"{hook.json_url('live')},{dead}",
            "MVIDARR_JELLYFIN_URL": jellyfin.url,
            "MVIDARR_JELLYFIN_TOKEN": jellyfin.token,
            "MVIDARR_PLEX_URL": plex.url,
            "MVIDARR_PLEX_TOKEN": plex.token,
            "MVIDARR_MEDIA_REFRESH_EVERY": "1",
        }
        with LiveApp("embedded", extra_env=env) as app:
            library = (app.data_dir / "library").resolve()
            plex.folders = [str(library)]
            alice = app.client("alice")
            job = download(alice, media.url(unique("media/clip.mp4")), title="Clip", artist="Band")
            assert job["status"] == "succeeded", job
            video = alice.get(f"/api/videos/{job['result']['video_id']}").json()
            path = library / video["file"]

            sent = hook.wait_for_call("POST", "/live").json()
            assert sent["title"] == "Downloaded: Band - Clip"
            assert sent["message"] == f"Band - Clip is in the library: {video['file']}"

            updated = jellyfin.wait_for_call("POST", "/Library/Media/Updated").json()
            assert updated == {"Updates": [{"Path": str(path), "UpdateType": "Created"}]}
            refresh = plex.wait_for_call("GET", "/library/sections/7/refresh")
            assert refresh.query == {"path": [str(Path(path).parent)]}

            staff = app.client("staff")

            def notification_failed():
                jobs = staff.get("/api/jobs", params={"kind": "send_notification"}).json()
                return next((j for j in jobs if j["status"] == "failed"), None)

            notice = wait_for(notification_failed)
            assert "1 of 2 notification target(s) failed" in notice["error"]
            assert f"127.0.0.1:{dead.split(':')[2].split('/')[0]}" in notice["error"]
            # The download itself stays a success, and alice never sees these jobs.
            assert alice.get(f"/api/jobs/{job['id']}").json()["status"] == "succeeded"
            assert alice.get(f"/api/jobs/{notice['id']}").status_code == 404
            assert len(jellyfin.calls_to("POST", "/Library/Media/Updated")) == 1
            assert len(plex.refreshes()) == 1


@pytest.mark.browser
def test_staff_set_up_jellyfin_in_the_browser_and_see_the_test_pass(page, jellyfin):
    # The page fixture (tests.browserkit) fails the test on any console error.
    log_in(page, "staff")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Media servers")).to_be_visible()
    server = page.locator("#jellyfin-form")
    server.get_by_label("Jellyfin URL").fill(jellyfin.url)
    server.get_by_label("Jellyfin API key").fill(jellyfin.token)
    server.get_by_role("button", name="Save").click()
    expect(page.locator("#flashes")).to_contain_text("Saved.")
    expect(page.locator("#option-JELLYFIN_TOKEN")).to_contain_text("Now: set (…6789)")
    page.locator("article", has=server).get_by_role("button", name="Test connection").click()
    # The result arrives by itself: the page polls while the job works.
    expect(page.locator("#check-jellyfin")).to_contain_text("Jellyfin 10.11.2 (living-room)")
    assert jellyfin.calls_to("GET", "/System/Info")
    assert jellyfin.token not in page.content()
