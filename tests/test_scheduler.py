"""Upkeep: jobs of dead workers come back, lost messages are re-sent, and
only one scheduler works at a time."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from jobs import scheduler
from jobs.models import Job
from tests.live import REDIS_URL
from videos.models import Video


@pytest.fixture
def job(users):
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4")
    job, _ = video.request_download(users["alice"])
    return job


def test_the_watchdog_requeues_a_job_whose_worker_stopped_heartbeating(job, settings):
    Job.claim(job.pk)
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER + 1)
    )
    assert scheduler.watchdog() == 1
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 1
    assert "stopped responding" in job.logs.last().message


def test_the_watchdog_leaves_live_jobs_alone(job):
    Job.claim(job.pk)
    assert scheduler.watchdog() == 0
    assert Job.objects.get(pk=job.pk).status == "running"


def test_the_watchdog_fails_a_job_out_of_attempts(job, settings):
    Job.objects.filter(pk=job.pk).update(max_attempts=1)
    Job.claim(job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    scheduler.watchdog()
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "worker_lost"


def test_the_reconciler_resends_queued_jobs_whose_message_is_lost(job, settings):
    Job.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER + 1),
        message_id=str(uuid.uuid4()),
    )
    before = Job.objects.get(pk=job.pk).message_id
    assert scheduler.reconcile() == 1
    after = Job.objects.get(pk=job.pk)
    assert after.message_id != before and after.status == "queued"
    assert scheduler.reconcile() == 0  # just re-sent: not due again yet


def test_only_one_scheduler_holds_the_lock():
    client = redis.Redis.from_url(f"{REDIS_URL}/0")
    client.delete(scheduler.LOCK_KEY)
    try:
        assert scheduler._hold_lock(client, "first") is True
        assert scheduler._hold_lock(client, "second") is False
        assert scheduler._hold_lock(client, "first") is True
        client.delete(scheduler.LOCK_KEY)
        assert scheduler._hold_lock(client, "second") is True
    finally:
        client.delete(scheduler.LOCK_KEY)
