"""Followed sources in the running app, in embedded and scaled mode: a feed
with three new entries out of ten gives three downloaded videos; checking
again costs one request answered 304 and adds nothing."""

from __future__ import annotations

from tests.apikit import finished, videos_from, wait_for
from tests.sourcekit import FILTERS, feed


def test_a_followed_feed_downloads_its_three_new_entries_once(app, media):
    url, key = feed(media)
    with app.client("alice") as client:
        response = client.post("/api/sources", json={"url": url, **FILTERS})
        assert response.status_code == 201, response.text
        source = response.json()
        check = finished(client, source["job_id"])
        assert check["status"] == "succeeded", check["error"]
        assert check["result"]["new"] == 3

        def all_downloaded():
            videos = videos_from(client, key)
            return len(videos) == 3 and all(v["status"] == "downloaded" for v in videos)

        wait_for(all_downloaded, timeout=120, interval=0.5)
        assert sorted(v["title"] for v in videos_from(client, key)) == ["First", "Second", "Third"]
        shown = client.get(f"/api/sources/{source['id']}").json()
        assert shown["last_result"] == "3 new of 10 (7 skipped by the filters)"

        again = client.post(f"/api/sources/{source['id']}/check")
        assert again.status_code == 202
        assert finished(client, again.json()["job_id"])["result"]["new"] == 0
        assert media.statuses(key) == {200: 1, 304: 1}  # and no yt-dlp run of the feed
        assert len(videos_from(client, key)) == 3
