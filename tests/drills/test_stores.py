"""Drills on the stores of scaled mode: Redis restarted without persistence
(the broker's queue and the channel layer's groups are gone; the database
still holds every job), and PostgreSQL restarted mid-run."""

from __future__ import annotations

import time

import pytest

from tests.apikit import add_video, finished, job_of, unique, wait_for
from tests.drillkit import FrameLog, RedisServer
from tests.live import LiveApp

# Downloads one at a time, so that some wait in the queue; a queued job that
# no worker took is re-sent after 5 s (the reconciler runs every 30 s).
ENV = {"MVIDARR_DOWNLOAD_CONCURRENCY": "1", "MVIDARR_JOB_RESEND_AFTER": "5"}


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_on_own_redis(redis_server):
    env = {**ENV, "MVIDARR_TEST_REDIS_URL": redis_server.url}
    with LiveApp("redis", extra_env=env, redis_url=redis_server.url) as app:
        yield app


def submit(client, media, n: int, rate: int) -> list[str]:
    videos = [add_video(client, media.url(unique(f"media/clip.mp4?rate={rate}"))) for _ in range(n)]
    return [client.post(f"/api/videos/{v['id']}/download").json()["job_id"] for v in videos]


def test_queued_and_running_jobs_survive_a_redis_restart_and_sockets_resubscribe(
    app_on_own_redis, redis_server, media, figures
):
    app = app_on_own_redis
    client = app.client("alice")
    before = FrameLog(app)  # a socket open across the restart
    jobs = submit(client, media, 3, rate=150000)
    wait_for(lambda: job_of(client, jobs[0])["status"] == "running")
    redis_server.stop()  # the two queued messages and every channel group are gone
    time.sleep(1)
    redis_server.start()
    restarted = time.monotonic()
    done = [finished(client, job_id, timeout=90) for job_id in jobs]
    took = time.monotonic() - restarted
    # New jobs after the restart reach the socket opened before it.
    late = submit(client, media, 1, rate=300000)
    finished(client, late[0], timeout=60)

    def resumed():
        statuses = [frame["status"] for _, frame in before.of(late, "status")]
        return statuses if "succeeded" in statuses else None

    statuses = wait_for(resumed, timeout=20)
    # A socket opened now gets the true state first.
    after = FrameLog(app)
    wait_for(lambda: after.frames, timeout=10)
    before.close()
    after.close()
    figures(
        f"{sum(j['status'] == 'succeeded' for j in done)}/3 succeeded, attempts "
        f"{[j['attempts'] for j in done]}, the last {took:.1f} s after the restart"
    )
    figures(f"the socket opened before the restart saw a later job go {' → '.join(statuses)}")
    assert all(j["status"] == "succeeded" and j["attempts"] == 1 for j in done), done
    assert statuses == ["queued", "running", "succeeded"]
    assert after.frames[0][1]["type"] == "snapshot"
