"""Drills on the stores of scaled mode: Redis restarted without persistence
(the broker's queue and the channel layer's groups are gone; the database
still holds every job), and PostgreSQL restarted mid-run."""

from __future__ import annotations

import time

import httpx
import pytest

from jobs.status import ACTIVE
from tests.apikit import add_video, finished, job_of, unique, wait_for
from tests.drillkit import FrameLog, PostgresCluster, RedisServer
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


@pytest.fixture(scope="module")
def postgres():
    cluster = PostgresCluster().start()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="module")
def app_on_own_postgres(postgres):
    env = {**ENV, "MVIDARR_DOWNLOAD_CONCURRENCY": "3"}
    with LiveApp("redis", extra_env=env, postgres_url=postgres.url) as app:
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


def test_jobs_finish_and_none_stays_running_across_a_postgresql_restart(
    app_on_own_postgres, postgres, media, figures
):
    app = app_on_own_postgres
    client = app.client("alice")
    jobs = submit(client, media, 6, rate=150000)
    wait_for(lambda: job_of(client, jobs[0])["status"] == "running")
    stopped = time.monotonic()
    postgres.stop("fast")  # every session of the app is ended
    time.sleep(2)
    postgres.start()
    down = time.monotonic() - stopped

    def answers():
        try:
            return httpx.get(f"{app.base_url}/api/jobs", headers=client.headers, timeout=5)
        except httpx.TransportError:
            return None

    wait_for(lambda: (r := answers()) is not None and r.status_code == 200, timeout=30)
    web_back = time.monotonic() - stopped
    done = [finished(client, job_id, timeout=180) for job_id in jobs]
    took = time.monotonic() - stopped

    def settled():  # the thumbnails made after the downloads too
        return not [j for j in client.get("/api/jobs").json() if j["status"] in ACTIVE]

    running = [] if wait_for(settled, timeout=30) else ["?"]
    figures(f"PostgreSQL down {down:.1f} s; the web answered again {web_back:.1f} s after the stop")
    figures(
        f"{sum(j['status'] == 'succeeded' for j in done)}/6 succeeded, attempts "
        f"{[j['attempts'] for j in done]}, the last {took:.1f} s after the stop; "
        f"{len(running)} left active"
    )
    assert all(j["status"] == "succeeded" for j in done), done
    assert not running
    # Retried at once (after MVIDARR_RETRY_DELAY), not found stale by the
    # watchdog's backstop (MVIDARR_JOB_STALE_AFTER, 90 s).
    assert took < 60
