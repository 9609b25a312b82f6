"""The processing stage: ffmpeg scales, transcodes, remuxes and tags a
download in the job's child process, with its own percent shown live."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.apikit import add_profile, finished, job_of, probe, submit_download, unique, wait_for
from tests.diskkit import files_under
from tests.live import LiveApp


@pytest.fixture(scope="module")
def app():
    # x264's slowest preset: a transcode of the 30 s clip lasts about a second,
    # long enough for several progress frames at the publisher's 4 a second.
    with LiveApp("embedded", extra_env={"MVIDARR_FFMPEG_PRESET": "veryslow"}) as app:
        yield app


def test_a_taller_download_is_scaled_down_with_its_percent_shown_live(app, media):
    client = app.client("alice")
    profile = add_profile(app, max_height=120)
    frames: list[dict] = []
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("alice")) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        json.loads(ws.recv(5))  # the snapshot
        done = threading.Event()

        def listen() -> None:
            while not done.is_set():
                try:
                    frames.append(json.loads(ws.recv(1)))
                except TimeoutError:
                    continue

        listener = threading.Thread(target=listen)
        listener.start()
        url = media.url(unique("media/long.mp4"))
        job_id = submit_download(client, url, profile=profile["name"], artist="Ann", title="Song")
        job = finished(client, job_id, timeout=120)
        done.set()
        listener.join(5)
    assert job["status"] == "succeeded", job
    processing = [
        f["percent"]
        for f in frames
        if f.get("job_id") == job_id
        and f.get("type") == "progress"
        and f["stage"] == "processing"
        and f["percent"] is not None  # yt-dlp's own steps (moving files) have none
    ]
    log = [line["message"] for line in client.get(f"/api/jobs/{job_id}/log").json()]
    stages = [(f.get("stage"), f.get("percent")) for f in frames if f.get("job_id") == job_id]
    assert processing and processing == sorted(processing), (stages, log)
    path = app.data_dir / "library" / job["result"]["file"]
    found = probe(path)
    assert found["video"]["height"] == 120 and found["video"]["codec_name"] == "h264"
    tags = {k.lower(): v for k, v in found["format"].get("tags", {}).items()}
    assert {"title": "Song", "artist": "Ann"}.items() <= tags.items()
    log = [line["message"] for line in client.get(f"/api/jobs/{job_id}/log").json()]
    assert "Processing: scale to 120p, H.264, into .mp4" in log
    # Its own scratch is gone (the thumbnail job that follows has its own).
    assert not (app.data_dir / "work" / uuid.UUID(job_id).hex).exists()


def test_a_download_its_profile_asks_nothing_of_is_not_processed(app, media):
    client = app.client("alice")
    job = finished(client, submit_download(client, media.url(unique("media/clip.mp4"))))
    log = [line["message"] for line in client.get(f"/api/jobs/{job['id']}/log").json()]
    assert job["status"] == "succeeded" and not any(m.startswith("Processing") for m in log)


def test_sound_an_mp4_cannot_hold_becomes_aac_and_the_picture_is_copied(app, media):
    client = app.client("alice")
    profile = add_profile(app, container="mp4")
    job = finished(
        client, submit_download(client, media.url(unique("media/pcm.mkv")), profile=profile["name"])
    )
    assert job["status"] == "succeeded", job
    path = app.data_dir / "library" / job["result"]["file"]
    streams = probe(path)["streams"]
    codecs = {s["codec_type"]: s["codec_name"] for s in streams}
    assert path.suffix == ".mp4" and codecs == {"video": "h264", "audio": "aac"}
    log = [line["message"] for line in client.get(f"/api/jobs/{job['id']}/log").json()]
    assert "Processing: AAC sound, into .mp4" in log


def processes_mentioning(text: str) -> list[int]:
    """The processes whose command line holds ``text`` (an ffmpeg reading a job's files)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):  # gone meanwhile
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
    return found


def test_a_running_transcode_is_cancelled_within_two_seconds_and_leaves_no_file(app, media):
    client = app.client("alice")
    profile = add_profile(app, video_codec="h264")  # heavy.mp4 is MPEG-4 Part 2: transcoded
    library_before = set(files_under(app.data_dir / "library"))
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("alice")) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        json.loads(ws.recv(5))  # the snapshot
        url = media.url(unique("media/heavy.mp4"))
        job_id = submit_download(client, url, profile=profile["name"])
        deadline = time.monotonic() + 60
        while True:  # until ffmpeg's own progress shows the transcode under way
            frame = json.loads(ws.recv(max(0.1, deadline - time.monotonic())))
            if frame.get("job_id") != job_id:
                continue
            assert frame.get("status") not in ("succeeded", "failed"), frame
            if frame["type"] == "progress" and frame["stage"] == "processing" and frame["percent"]:
                break
    work_dir = app.data_dir / "work" / uuid.UUID(job_id).hex
    assert processes_mentioning(str(work_dir))  # ffmpeg, transcoding
    asked = time.monotonic()
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"

    def stopped_and_cleaned_up():
        return not work_dir.exists() and not processes_mentioning(str(work_dir))

    wait_for(stopped_and_cleaned_up, timeout=2.0, interval=0.02)
    assert time.monotonic() - asked <= 2.0  # the promise, as a bound
    assert job_of(client, job_id)["status"] == "cancelled"
    # Nothing of this job in the library (earlier tests' thumbnails may still land).
    new = set(files_under(app.data_dir / "library")) - library_before
    assert all(path.name.endswith("-thumb.jpg") and "heavy" not in path.name for path in new), new
