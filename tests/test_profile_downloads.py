"""Profiles choose what yt-dlp fetches: real yt-dlp and ffmpeg against the
local media server's multi-variant HLS source (1080p, 720p and 360p variants,
each request counted per variant)."""

from __future__ import annotations

import uuid

from tests.apikit import add_profile, add_video, download, finished, probe


def _file(app, job: dict):
    assert job["status"] == "succeeded", job
    return app.data_dir / "library" / job["result"]["file"]


def _ladder(media) -> tuple[str, str]:
    """The master playlist's URL, traced under a fresh tag."""
    tag = uuid.uuid4().hex
    return media.url(f"hls/ladder/master.m3u8?trace={tag}"), tag


def test_a_720p_profile_fetches_only_the_720p_variant(app, media):
    profile = add_profile(app, max_height=720)
    url, tag = _ladder(media)
    job = download(app.client("alice"), url, profile=profile["name"])
    assert probe(_file(app, job))["video"]["height"] == 720
    assert media.stats(f"{tag}/v720/segments") >= 3
    assert media.stats(f"{tag}/v1080/segments") == 0
    # yt-dlp's generic extractor reads the first variant's playlist (not its
    # segments) to tell a live stream from a VOD one.
    assert media.stats(f"{tag}/v1080") <= 1
    assert media.stats(f"{tag}/v360/segments") == 0


def test_a_video_added_with_a_profile_downloads_with_it(embedded_app, media):
    app, client = embedded_app, embedded_app.client("alice")
    profile = add_profile(app, max_height=400)
    url, tag = _ladder(media)
    video = add_video(client, url, profile=profile["id"])
    assert finished(client, video["job_id"])["status"] == "succeeded"
    started = client.post(f"/api/videos/{video['id']}/download")
    job = finished(client, started.json()["job_id"], timeout=120)
    assert probe(_file(app, job))["video"]["height"] == 360
    assert media.stats(f"{tag}/v360/segments") >= 3
    assert media.stats(f"{tag}/v720/segments") == media.stats(f"{tag}/v1080/segments") == 0


def test_the_default_profile_takes_the_best_variant(embedded_app, media):
    url, tag = _ladder(media)
    job = download(embedded_app.client("alice"), url)
    assert probe(_file(embedded_app, job))["video"]["height"] == 1080
    assert media.stats(f"{tag}/v1080/segments") >= 3
    assert media.stats(f"{tag}/v720/segments") == 0
    log = embedded_app.client("alice").get(f"/api/jobs/{job['id']}/log").json()
    assert any(line["message"] == "Profile: Best" for line in log)


def test_an_mkv_profile_gives_an_mkv(embedded_app, media):
    profile = add_profile(embedded_app, container="mkv")
    job = download(
        embedded_app.client("alice"),
        media.url(f"media/clip.mp4?key={uuid.uuid4().hex}"),
        profile=profile["id"],
    )
    file = _file(embedded_app, job)
    assert file.suffix == ".mkv"
    found = probe(file)
    assert "matroska" in found["format"]["format_name"]
    assert found["video"]["codec_name"] == "h264"
