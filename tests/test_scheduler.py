"""Upkeep: jobs of dead workers come back, lost messages are re-sent, and
only one scheduler works at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from jobs import scheduler
from jobs.models import Job, ScheduledTask, WorkerBeat
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


def test_a_job_of_a_worker_that_stopped_beating_is_requeued_in_seconds(job, settings):
    """Long before the job's own heartbeat (90 s) would be stale."""
    claimed = Job.claim(job.pk, worker="host-a:1")
    quiet = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER + 1)
    WorkerBeat.objects.create(name="host-a:1", seen_at=quiet)
    Job.objects.filter(pk=claimed.pk).update(heartbeat_at=quiet)
    assert scheduler.watchdog() == 1
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_a_worker_that_still_beats_keeps_its_job_however_quiet_the_job(job, settings):
    claimed = Job.claim(job.pk, worker="host-b:2")
    WorkerBeat.objects.create(name="host-b:2", seen_at=timezone.now())
    quiet = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER * 3)
    Job.objects.filter(pk=claimed.pk).update(heartbeat_at=quiet)
    assert scheduler.watchdog() == 0
    assert Job.objects.get(pk=job.pk).status == "running"


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
    before = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER + 1)
    Job.objects.filter(pk=job.pk).update(enqueued_at=before)
    assert scheduler.reconcile() == 1
    after = Job.objects.get(pk=job.pk)
    assert after.enqueued_at > before and after.status == "queued"
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


def test_history_older_than_the_limit_is_pruned(job, settings):
    settings.JOB_HISTORY_DAYS = 7
    job.cancel()
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=8))
    fresh, _ = Video.objects.create(owner=job.owner, url="http://127.0.0.1/f.mp4").request_download(
        job.owner
    )
    fresh.cancel()
    assert scheduler.prune_history() == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_run_due_records_each_task_and_honours_run_now(db):
    scheduler.run_due()
    states = {t.name: t for t in ScheduledTask.objects.all()}
    assert set(states) == set(scheduler.PERIODIC)
    for task in states.values():
        assert task.last_ok and task.next_run_at > task.last_started_at
    assert states["watchdog"].last_outcome == "0 job(s) recovered"
    first_run = states["prune_history"].last_started_at
    scheduler.run_due()  # nothing is due yet
    assert ScheduledTask.objects.get(name="prune_history").last_started_at == first_run
    ScheduledTask.objects.filter(name="prune_history").update(run_now=True)
    scheduler.run_due()
    assert ScheduledTask.objects.get(name="prune_history").last_started_at > first_run
