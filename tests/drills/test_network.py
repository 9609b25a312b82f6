"""Drills on the network to the media: the connection dropped mid-file, and a
server that stops sending without closing."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest

from tests.apikit import finished, submit_download
from tests.live import LiveApp
from tests.media import DEFAULT_CACHE

DROP_AFTER = 700_000  # bytes of long.mp4 (~1.9 MB) each connection gets before it drops
STALL_TIMEOUT = 3  # MVIDARR_STALL_TIMEOUT of the stalled-server drill
RETRY_DELAY = 1
BLOCK = 64 * 1024  # at most this much of a dropped connection's data is fetched again


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_connection_dropped_mid_file_resumes_from_the_partial_file(scaled_app, media, figures):
    client = scaled_app.client("alice")
    key = uuid.uuid4().hex
    url = media.url(f"media/long.mp4?drop_after={DROP_AFTER}&rate=1000000&key={key}")
    job = finished(client, submit_download(client, url), timeout=90)
    assert job["status"] == "succeeded", job
    video = client.get(f"/api/videos/{int(job['subject'].partition(':')[2])}").json()
    source = DEFAULT_CACHE / "long.mp4"
    size = source.stat().st_size
    log = [line for line in media.requests(key) if line["method"] == "GET"]
    resumes = [
        (int(line["range"].removeprefix("bytes=").partition("-")[0]), line["sent"])
        for line in log
        if line["range"]
    ]
    sent = sum(line["sent"] for line in log)
    figures(
        f"{len(log)} GETs: "
        + ", ".join(f"{line['range'] or 'whole'} → {line['sent']} B" for line in log)
    )
    figures(f"{sent} body bytes sent for a {size} B file; attempts {job['attempts']}")
    # Each connection after a drop continued from what the partial file held:
    # what arrived, less the block being written when the connection dropped.
    assert len(resumes) >= 2, log
    delivered = DROP_AFTER
    for start, got in resumes:
        assert delivered - BLOCK < start <= delivered, log
        delivered = start + got
    assert delivered == size
    library = scaled_app.data_dir / "library"
    assert sha256(library / video["file"]) == sha256(source)


@pytest.fixture(scope="module", params=["embedded", "redis"])
def stalling_app(request):
    env = {"MVIDARR_RETRY_DELAY": str(RETRY_DELAY), "MVIDARR_STALL_TIMEOUT": str(STALL_TIMEOUT)}
    with LiveApp(request.param, extra_env=env) as app:
        yield app


def test_a_stalled_server_is_detected_and_retried_within_the_bound(stalling_app, media, figures):
    client = stalling_app.client("alice")
    key = uuid.uuid4().hex
    started = time.monotonic()
    job_id = submit_download(client, media.url(f"media/clip.mp4?stall_after=50000&key={key}"))
    job = finished(client, job_id, timeout=60)
    took = time.monotonic() - started
    requests = media.requests(key)
    figures(
        f"{job['attempts']} attempts ({len(requests)} requests), each stalled after 50000 B; "
        f"failed 'stalled' {took:.1f} s after submit (stall timeout {STALL_TIMEOUT} s, "
        f"retry delay {RETRY_DELAY} s)"
    )
    assert job["status"] == "failed" and job["error_code"] == "stalled"
    assert job["attempts"] == 3
    assert "gave up after 3 attempts" in job["error"]
    assert not (stalling_app.data_dir / "work" / uuid.UUID(job_id).hex).exists()
    # Three stalls, two retry delays, and start-up: nowhere near the 20 s
    # socket timeout of yt-dlp, which would be the bound without the supervisor.
    assert took < 3 * (STALL_TIMEOUT + 1.5) + 2 * RETRY_DELAY + 5
