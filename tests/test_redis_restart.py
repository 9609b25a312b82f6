"""A Redis restart in scaled mode loses the broker's queue and the channel
layer's groups; the database still holds every job, so nothing is lost."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import pytest
import redis
from websockets.sync.client import connect

from tests.apikit import add_video, finished, job_of, wait_for
from tests.live import LiveApp, free_port


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, timeout=10)

    def _up(self) -> bool:
        try:
            return redis.Redis(port=self.port).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(redis_server):
    env = {
        "MVIDARR_TEST_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}",
        "MVIDARR_JOB_RESEND_AFTER": "5",
        "MVIDARR_DOWNLOAD_CONCURRENCY": "1",
    }
    with LiveApp("redis", extra_env=env, redis_url=f"redis://127.0.0.1:{redis_server.port}") as app:
        yield app


def test_jobs_survive_a_redis_restart_and_clients_resubscribe(app, redis_server, media):
    client = app.client("alice")
    videos = [
        add_video(client, media.url(f"media/clip.mp4?rate=150000&key={uuid.uuid4().hex}"))
        for _ in range(3)
    ]
    jobs = [client.post(f"/api/videos/{v['id']}/download").json()["job_id"] for v in videos]
    wait_for(lambda: job_of(client, jobs[0])["status"] == "running")
    redis_server.stop()  # the two queued messages and every channel group are gone
    time.sleep(1)
    redis_server.start()
    for job_id in jobs:
        job = finished(client, job_id, timeout=60)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 1
    # A socket opened after the restart gets the true state, then live frames.
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("alice")) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        assert json.loads(ws.recv(5))["type"] == "snapshot"
        late = add_video(client, media.url(f"media/clip.mp4?rate=300000&key={uuid.uuid4().hex}"))
        late_job = client.post(f"/api/videos/{late['id']}/download").json()["job_id"]
        statuses = []
        while "succeeded" not in statuses:
            frame = json.loads(ws.recv(30))
            if frame.get("job_id") == late_job and frame["type"] == "status":
                statuses.append(frame["status"])
        assert statuses == ["queued", "running", "succeeded"]
