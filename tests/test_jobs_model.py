"""The Job state machine: the database, not luck, keeps it consistent."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from jobs.models import WORKER_ID, Job, JobLog, PausedQueue
from videos.models import Video


@pytest.fixture
def video(users):
    return Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4", title="T")


def test_the_database_forbids_two_active_downloads_of_one_video(users, video):
    Job.objects.create(kind="download_video", owner=users["alice"], subject=video.subject)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind="download_video", owner=users["bob"], subject=video.subject)


def test_a_finished_download_does_not_block_a_new_one(users, video):
    Job.objects.create(
        kind="download_video", owner=users["alice"], subject=video.subject, status="failed"
    )
    job, created = video.request_download(users["alice"])
    assert created and job.status == "queued"


def test_requesting_a_download_twice_returns_the_active_job(users, video):
    first, created = video.request_download(users["alice"])
    second, created_again = video.request_download(users["alice"])
    assert created and not created_again
    assert second.pk == first.pk
    assert Job.objects.filter(kind="download_video").count() == 1
    video.refresh_from_db()
    assert video.status == "downloading"


def test_a_job_is_claimed_once_in_one_query_that_returns_the_row(
    users, video, django_assert_num_queries
):
    job, _ = video.request_download(users["alice"])
    with django_assert_num_queries(1):
        claimed = Job.claim(str(job.pk))
    assert claimed is not None and claimed.status == "running" and claimed.attempts == 1
    assert claimed.started_at == claimed.heartbeat_at and claimed.worker
    assert claimed.params == {"video_id": video.pk} and claimed.owner_id == users["alice"].pk
    assert claimed.turn_of is None and claimed.retry_at is None
    claimed.refresh_from_db()
    assert claimed.status == "running" and claimed.stage == "starting"
    assert Job.claim(job.pk) is None


def test_a_claimed_job_finishes_in_one_statement_with_its_log_lines(
    users, django_assert_num_queries
):
    """On PostgreSQL the UPDATE and the log's INSERT are one statement; on
    SQLite two, in a transaction (here a savepoint in the test's, twice)."""
    job, _ = Job.submit("ping", users["alice"])
    claimed = Job.claim(job.pk)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4):
        assert claimed.mark_succeeded({"pong": True})
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result == {"pong": True} and job.percent == 100.0
    lines = list(JobLog.objects.filter(job=job).order_by("id").values_list("message", flat=True))
    assert lines == ["Queued on default", f"Attempt 1 started on {WORKER_ID}", "Succeeded"]


def test_a_job_waiting_to_retry_is_claimed_once_due(users, video):
    job, _ = video.request_download(users["alice"])
    Job.claim(job.pk).retry_or_fail("Timed out", "network", True, delay=60)
    assert Job.claim(job.pk) is None
    Job.objects.filter(pk=job.pk).update(retry_at=timezone.now() + timedelta(seconds=0.5))
    assert Job.claim(job.pk).attempts == 2  # within the claim's slack


def test_cancel_moves_a_queued_job_to_cancelled_once(users, video):
    job, _ = video.request_download(users["alice"])
    assert job.cancel() is True
    assert job.cancel() is False
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at is not None
    video.refresh_from_db()
    assert video.status == "wanted"
    assert Job.claim(job.pk) is None


def test_a_stale_attempt_cannot_overwrite_a_cancelled_job(users, video):
    job, _ = video.request_download(users["alice"])
    running = Job.claim(job.pk)
    Job.objects.get(pk=job.pk).cancel()
    assert running.save_progress({"percent": 50.0}) is False
    running.log("info", "chatter", defer=True)
    assert running.mark_succeeded({}) is False
    assert running.mark_failed("late", "error") is False
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    messages = list(job.logs.values_list("message", flat=True))
    assert messages[-1] == "Cancelled" and "chatter" not in messages
    assert [line.message for line in running.take_log_lines()] == ["chatter"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_and_submits_hold_under_threads(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    video = Video.objects.create(owner=alice, url="http://127.0.0.1/v.mp4")
    barrier = threading.Barrier(8)
    submitted, claimed, errors = [], [], []

    def submit_and_claim():
        try:
            barrier.wait()
            job, _ = video.request_download(alice)
            submitted.append(job.pk)
            if Job.claim(job.pk):
                claimed.append(job.pk)
        except Exception as e:
            errors.append(e)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=submit_and_claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(submitted) == 8 and len(set(submitted)) == 1
    assert len(claimed) == 1
    assert Job.objects.count() == 1


def test_download_now_takes_the_next_turn_in_its_queue(users):
    alice = users["alice"]
    jobs = []
    for n in range(3):
        video = Video.objects.create(owner=alice, url=f"http://127.0.0.1/{n}.mp4")
        jobs.append(video.request_download(alice)[0])
    first, second, third = jobs
    assert third.prioritize()
    assert Job.claim(first.pk).pk == third.pk  # the first message runs the urgent job
    assert Job.claim(third.pk).pk == first.pk  # and the urgent job's message the first
    assert Job.claim(second.pk).pk == second.pk
    assert Job.claim(third.pk) is None  # a duplicate delivery runs nothing


def test_paused_queues_are_not_claimed(users):
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/p.mp4")
    job, _ = video.request_download(users["alice"])
    PausedQueue.pause(job.queue)
    assert Job.claim(job.pk) is None
    assert Job.objects.get(pk=job.pk).status == "queued"
    PausedQueue.resume(job.queue)
    assert Job.claim(job.pk).status == "running"


def test_deferred_log_lines_are_written_with_the_next_state_change(users):
    job = Job.objects.create(kind="ping", owner=users["alice"])
    claimed = Job.claim(job.pk)
    claimed.log("warning", "first", defer=True)
    claimed.log("warning", "second", defer=True)
    messages = list(job.logs.values_list("message", flat=True))
    assert "first" not in messages
    claimed.mark_failed("boom", "error")
    messages = list(job.logs.values_list("message", flat=True))
    assert messages[-3:] == ["first", "second", "Failed: boom"]


def test_a_failure_keeps_its_raw_output_apart_until_the_next_attempt_starts(users, video):
    job, _ = video.request_download(users["alice"])
    first = Job.claim(job.pk)
    assert first.retry_or_fail("Timed out", "network", True, detail="Read timed out.")
    job.refresh_from_db()
    assert (job.status, job.error, job.error_detail) == ("queued", "Timed out", "Read timed out.")
    Job.objects.filter(pk=job.pk).update(retry_at=None)
    second = Job.claim(job.pk)
    assert (second.error, second.error_detail) == ("", "")
    assert second.mark_failed("Video not found (HTTP 404)", "not_found", "HTTP Error 404")
    job.refresh_from_db()
    assert (job.error, job.error_detail) == ("Video not found (HTTP 404)", "HTTP Error 404")
    video.refresh_from_db()
    assert (video.status, video.error) == ("failed", "Video not found (HTTP 404)")


def test_cancelling_a_job_waiting_to_retry_drops_the_old_raw_output(users, video):
    job, _ = video.request_download(users["alice"])
    Job.claim(job.pk).retry_or_fail("Timed out", "network", True, detail="Read timed out.")
    assert Job.objects.get(pk=job.pk).cancel()
    job.refresh_from_db()
    assert (job.status, job.error, job.error_detail) == ("cancelled", "Cancelled", "")
