"""Shared pieces of the tests that drive a running MVidarr over its API."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from jobs.status import ACTIVE
from tests.live import PASSWORD


def wait_for(check, timeout: float = 30, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {check.__name__}")


def add_video(client, url: str, **fields) -> dict:
    response = client.post("/api/videos", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def videos_from(client, key: str) -> list[dict]:
    """The user's videos whose URL holds ``key`` (``q`` searches titles and
    artists, not URLs), newest first."""
    items = client.get("/api/videos", params={"page_size": 1000}).json()["items"]
    return [video for video in items if key in video["url"]]


def job_of(client, job_id: str) -> dict:
    return client.get(f"/api/jobs/{job_id}").json()


def finished(client, job_id: str, timeout: float = 60) -> dict:
    def done():
        job = job_of(client, job_id)
        return job if job["status"] not in ACTIVE else None

    return wait_for(done, timeout)


def unique(path: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}key={uuid.uuid4().hex}"


def thumbnail_job(client, video_id: int) -> dict:
    """The video's thumbnail job (queued after its download), once it has finished."""

    def listed():
        jobs = client.get("/api/jobs", params={"kind": "make_thumbnails"}).json()
        return next((j for j in jobs if j["subject"] == f"video:{video_id}"), None)

    return finished(client, wait_for(listed)["id"])


def add_profile(app, **fields) -> dict:
    """A new profile made by staff, under a name no other test uses."""
    fields.setdefault("name", f"profile-{uuid.uuid4().hex[:8]}")
    with app.client("staff") as staff:
        response = staff.post("/api/profiles", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def download(client, url: str, timeout: float = 120, **fields) -> dict:
    """Submit a download by URL (``POST /api/jobs``) and wait for it to finish."""
    return finished(client, submit_download(client, url, **fields), timeout)


def probe(path) -> dict:
    """ffprobe's view of a file: its format, first video stream and all streams."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    found = json.loads(out)
    video = next((s for s in found["streams"] if s.get("codec_type") == "video"), {})
    return {"format": found["format"], "video": video, "streams": found["streams"]}


def submit_download(client, url: str, **fields) -> str:
    """``POST /api/jobs`` for a download (the video is added, no metadata job); the job id."""
    response = client.post("/api/jobs", json={"kind": "download_video", "url": url, **fields})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def web_session(app, user: str = "alice") -> httpx.Client:
    """An HTTP client logged in through the login form, as a browser is (the
    pages and the file view take a session, not an API key)."""
    web = httpx.Client(base_url=app.base_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/login/").text)
    web.post(
        "/login/",
        data={"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert "sessionid" in web.cookies
    return web


def rss_mb(pid: int) -> int:
    """Resident memory of a process, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


def metric_samples(text: str) -> dict[tuple, float]:
    """``GET /metrics`` as ``{(name, (("label", "value"), …)): value}``, labels sorted."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


METRICS_TOKEN = "live-metrics-token"  # the ops_app's MVIDARR_METRICS_TOKEN


def scrape(app) -> dict[tuple, float]:
    """``GET /metrics`` of a running app, with its bearer token, as samples."""
    response = httpx.get(
        f"{app.base_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return metric_samples(response.text)


def close_code(ws, timeout: float = 10) -> int:
    """The code the server closes the socket with (within ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 - pings until closed
        while time.monotonic() < deadline:
            ws.send(json.dumps({"type": "ping"}))
            ws.recv(1)
            time.sleep(0.2)
    return closed.value.rcvd.code
