"""``GET /metrics``: who may read it, and what it says about the jobs in the
database (in-process; the live tests in test_metrics_live.py run real jobs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job, PausedQueue, WorkerBeat
from tests.apikit import metric_samples

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def refused(response, status: int) -> None:
    assert response.status_code == status
    assert b"mvidarr_" not in response.content  # no data with a refusal


def test_an_anonymous_request_gets_401_and_no_data(client, users, token):
    response = client.get("/metrics")
    refused(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_user_who_is_not_staff_gets_403(client, users, token):
    client.force_login(users["alice"])
    refused(client.get("/metrics"), 403)


def test_a_staff_session_reads_the_metrics(client, users):
    client.force_login(users["staff"])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert ("mvidarr_workers_alive", ()) in metric_samples(response.content.decode())


def test_the_bearer_token_reads_the_metrics_without_a_session(client, users, token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"mvidarr_jobs" in response.content


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        "Bearer",
        "Bearer \x00",
    ],
)
def test_a_wrong_token_gets_401_and_no_data(client, users, token, header):
    refused(client.get("/metrics", HTTP_AUTHORIZATION=header), 401)


def test_a_wrong_token_is_refused_even_beside_a_staff_session(client, users, token):
    client.force_login(users["staff"])
    refused(client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong"), 401)


def test_without_a_configured_token_no_bearer_token_passes(client, users, settings):
    settings.METRICS_TOKEN = ""
    for header in ("Bearer ", "Bearer x", f"Bearer {TOKEN}"):
        refused(client.get("/metrics", HTTP_AUTHORIZATION=header), 401)


def test_a_staff_api_key_is_not_the_metrics_token(client, keys, token):
    refused(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {keys['staff']}"), 401)
    refused(client.get("/metrics", HTTP_X_API_KEY=keys["staff"]), 401)


def test_metrics_are_read_only(client, users, token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_the_token_works_before_the_first_account_exists(client, first_run, token):
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_metrics_count_the_jobs_workers_and_durations_in_the_database(client, users, token):
    now = timezone.now()
    ago = lambda seconds: now - timedelta(seconds=seconds)  # noqa: E731

    def job(status: str, kind: str = "ping", queue: str = "default", **fields) -> Job:
        return Job.objects.create(
            owner=users["alice"], kind=kind, queue=queue, status=status, **fields
        )

    job("queued")
    job("queued", retry_at=now + timedelta(hours=1))  # waits for its retry: not due
    job("running", started_at=ago(5))
    for _ in range(2):
        job("queued", kind="download_video", queue="video_downloads")
    job("succeeded", started_at=ago(2), finished_at=now)
    job("succeeded", started_at=ago(40), finished_at=ago(1))
    job(
        "failed",
        kind="download_video",
        queue="video_downloads",
        started_at=ago(700),
        finished_at=now,
    )
    job("succeeded", started_at=ago(7300), finished_at=ago(7200))  # before the window
    job("cancelled", finished_at=now)  # cancelled while queued: it never ran
    PausedQueue.pause("video_downloads")
    WorkerBeat.objects.create(name="here:1", queues={"default": 2, "video_downloads": 3})
    WorkerBeat.objects.create(name="gone:2", queues={"default": 2}, seen_at=ago(3600))

    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    m = metric_samples(text)

    def jobs(queue: str, status: str) -> float:
        return m["mvidarr_jobs", (("queue", queue), ("status", status))]

    assert (jobs("default", "queued"), jobs("default", "running")) == (2, 1)
    assert (jobs("default", "succeeded"), jobs("default", "cancelled")) == (3, 1)
    assert (jobs("video_downloads", "queued"), jobs("video_downloads", "failed")) == (2, 1)
    assert jobs("metadata", "queued") == 0  # every configured queue is there, at 0 if idle
    assert m["mvidarr_queue_depth", (("queue", "default"),)] == 1
    assert m["mvidarr_queue_depth", (("queue", "video_downloads"),)] == 0  # paused
    assert m["mvidarr_queue_paused", (("queue", "video_downloads"),)] == 1
    assert m["mvidarr_workers_alive", ()] == 1
    assert m["mvidarr_worker_threads", (("queue", "video_downloads"),)] == 3
    assert m["mvidarr_worker_threads", (("queue", "metadata"),)] == 0

    def bucket(kind: str, outcome: str, le: str) -> float:
        labels = (("kind", kind), ("le", le), ("outcome", outcome))
        return m["mvidarr_job_duration_seconds_bucket", labels]

    assert [bucket("ping", "succeeded", le) for le in ("1.0", "2.5", "30.0", "60.0", "+Inf")] == [
        0,
        1,
        1,
        2,
        2,
    ]
    assert m["mvidarr_job_duration_seconds_gsum", (("kind", "ping"), ("outcome", "succeeded"))] == (
        pytest.approx(41, abs=0.01)
    )
    assert bucket("download_video", "failed", "600.0") == 0
    assert bucket("download_video", "failed", "1800.0") == 1
    assert not any(name.startswith("mvidarr_job_duration") and ("outcome", "cancelled") in labels
                   for name, labels in m)  # fmt: skip
    assert "mvidarr_broker_messages" not in text  # embedded mode: no Redis
    assert m["mvidarr_websocket_connections", ()] == 0


def test_the_database_figures_still_answer_while_redis_is_away(client, users, token, settings):
    settings.EMBEDDED, settings.REDIS_URL = False, "redis://127.0.0.1:9/0"  # nothing listens
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    m = metric_samples(response.content.decode())
    assert m["mvidarr_queue_depth", (("queue", "video_downloads"),)] == 0
    assert ("mvidarr_websocket_connections", ()) not in m
