"""Shared pieces of the tests that drive a running MVidarr over its API."""

from __future__ import annotations

import time
import uuid

from jobs.status import ACTIVE


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
