"""Notifications: events become ``send_notification`` jobs whose Apprise
message reaches a local endpoint (``json://127.0.0.1:PORT/…``); a failing
notifier fails only its own job; a job's failure is told once, after its
last attempt; the daily digest gathers the day in one message."""

from __future__ import annotations

import pytest
from django.conf import settings

from integrations import events, tasks
from integrations.models import DigestEntry
from jobs.models import Job
from jobs.supervisor import run_attempt
from mvidarr import config
from tests.integrationkit import closed_port
from videos.models import Video
from videos.tasks import queue_downloads


def notifications() -> list[Job]:
    return list(Job.objects.filter(kind="send_notification").order_by("created_at"))


def run(job: Job) -> Job:
    """One attempt of a queued job, here and now (as a worker would)."""
    run_attempt(str(job.pk))
    job.refresh_from_db()
    return job


@pytest.fixture
def notify_to(users):
    """Notifications go to these URLs, on these events (the defaults if none)."""

    def configure(*urls: str, events: list[str] | None = None) -> None:
        values = {"NOTIFY_URLS": list(urls)}
        if events is not None:
            values["NOTIFY_EVENTS"] = events
        config.save(values, users["staff"])

    return configure


def test_a_downloaded_video_is_announced_at_the_notification_url(hook, notify_to, users):
    notify_to(hook.json_url("mvidarr"))
    path = settings.LIBRARY_DIR / "Nirvana" / "Nirvana - Lithium [7].mp4"
    events.video_downloaded("Nirvana - Lithium", str(path))
    [job] = notifications()
    assert job.owner == users["staff"] and job.label == "Notify: Downloaded: Nirvana - Lithium"
    assert run(job).status == "succeeded"
    [call] = hook.calls_to("POST", "/mvidarr")
    sent = call.json()
    assert sent["title"] == "Downloaded: Nirvana - Lithium"
    assert sent["message"] == (
        "Nirvana - Lithium is in the library: Nirvana/Nirvana - Lithium [7].mp4"
    )
    assert sent["type"] == "info"


def test_nothing_is_queued_without_a_url_or_for_an_event_staff_did_not_pick(hook, notify_to):
    events.video_downloaded("A - B", "/x/A - B.mp4")
    assert notifications() == []
    notify_to(hook.json_url(), events=["job_failed"])
    events.video_downloaded("A - B", "/x/A - B.mp4")
    assert notifications() == []


def test_a_notifier_that_cannot_be_reached_fails_its_own_job_with_the_reason(notify_to):
    dead = f"json://someone:hunter2-secret@127.0.0.1:{closed_port()}/hook"
    notify_to(dead)
    events.video_downloaded("Blur - Song 2", "/library/Blur/Blur - Song 2 [1].mp4")
    [job] = notifications()
    job = run(job)
    # Reaching no one at all is worth another try later.
    assert job.status == "queued" and job.retry_at is not None and job.attempts == 1
    Job.objects.filter(pk=job.pk).update(retry_at=None, max_attempts=2)
    job = run(job)
    assert job.status == "failed" and job.error_code == "notify_failed"
    assert "1 of 1 notification target(s) failed" in job.error
    assert f"127.0.0.1:{dead.rsplit(':', 1)[1].split('/')[0]}" in job.error
    assert "hunter2" not in job.error
    assert "hunter2" not in " ".join(job.logs.values_list("message", flat=True))


def test_one_target_failing_is_recorded_while_the_others_get_the_message(hook, notify_to):
    notify_to(hook.json_url(), f"json://127.0.0.1:{closed_port()}/dead")
    events.video_downloaded("Blur - Song 2", "/library/Blur/Blur - Song 2 [1].mp4")
    job = run(notifications()[0])
    # Not retried: the target that got it would get it twice.
    assert job.status == "failed" and "1 of 2 notification target(s) failed" in job.error
    assert len(hook.notifications()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_job_is_announced_once_after_its_last_attempt(hook, notify_to, users):
    notify_to(hook.json_url())
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4", title="T")
    job, _ = video.request_download(users["alice"])
    Job.objects.filter(pk=job.pk).update(max_attempts=2)
    Job.claim(job.pk).retry_or_fail("Connection reset", "network", transient=True)
    assert notifications() == []  # it will be tried again: nothing to tell yet
    Job.objects.filter(pk=job.pk).update(retry_at=None)
    Job.claim(job.pk).retry_or_fail("Connection reset", "network", transient=True)
    assert Job.objects.get(pk=job.pk).status == "failed"
    [notice] = notifications()
    assert run(notice).status == "succeeded"
    [sent] = hook.notifications()
    assert sent["title"] == "Failed: T"
    assert sent["message"] == "T: Connection reset (gave up after 2 attempts)"


@pytest.mark.django_db(transaction=True)
def test_a_failing_notification_job_is_not_itself_announced(notify_to, users):
    notify_to(f"json://127.0.0.1:{closed_port()}/dead")
    job = tasks.send_later("test", "Hello", "there")
    Job.objects.filter(pk=job.pk).update(max_attempts=1)
    assert run(job).status == "failed"
    assert notifications() == [job]


@pytest.mark.django_db(transaction=True)
def test_children_are_told_by_their_parent(hook, notify_to, users):
    notify_to(hook.json_url())
    parent = Job.start_parent("bulk_download_videos", users["alice"], label="Download 2 videos")
    videos = [
        Video.objects.create(owner=users["alice"], url=f"http://127.0.0.1/{n}.mp4", title=f"V{n}")
        for n in range(2)
    ]
    queue_downloads(parent, videos)
    parent.wait_for_children()
    children = Job.objects.filter(parent=parent)
    for child in children:
        Job.objects.filter(pk=child.pk).update(max_attempts=1)
        Job.claim(child.pk).retry_or_fail("Not found", "not_found", transient=False)
    [notice] = notifications()
    assert notice.params["title"] == "Failed: Download 2 videos"
    assert notice.params["body"] == "Download 2 videos: 2 of 2 failed"


def test_new_videos_from_a_source_are_announced_with_their_titles(hook, notify_to):
    notify_to(hook.json_url())
    events.new_videos_found("Weekly picks", [f"Song {n}" for n in range(12)])
    [job] = notifications()
    run(job)
    [sent] = hook.notifications()
    assert sent["title"] == "12 new video(s) from Weekly picks"
    lines = sent["message"].splitlines()
    assert lines[:2] == ["Song 0", "Song 1"] and lines[-1] == "… and 2 more" and len(lines) == 11


def test_the_daily_digest_gathers_the_day_in_one_message(hook, notify_to):
    notify_to(hook.json_url(), events=["daily_digest"])
    events.video_downloaded("A - One", "/l/A/A - One.mp4")
    events.video_downloaded("A - Two", "/l/A/A - Two.mp4")
    events.new_videos_found("Picks", ["Three"])
    assert notifications() == []  # only the digest was picked
    assert tasks.send_digest() == 3
    assert DigestEntry.objects.count() == 0
    assert tasks.send_digest() == 0  # nothing new: nothing sent
    [job] = notifications()
    run(job)
    [sent] = hook.notifications()
    assert sent["title"] == ("MVidarr daily digest: 2 × video downloaded, 1 × source new videos")
    assert sent["message"].splitlines() == [
        "Downloaded: A - One: A - One is in the library: A - One.mp4",
        "Downloaded: A - Two: A - Two is in the library: A - Two.mp4",
        "1 new video(s) from Picks: Three",
    ]


def test_an_unknown_event_is_logged_and_never_raised(notify_to, hook, caplog):
    notify_to(hook.json_url())
    events.emit("no_such_event", "t", "b")
    assert notifications() == []
    assert "Unknown event 'no_such_event'" in caplog.text


def test_a_very_long_title_is_cut_to_fit(hook, notify_to):
    notify_to(hook.json_url())
    events.video_downloaded("T" * 300, "/l/x.mp4")
    [job] = notifications()
    assert len(job.label) == 300 and len(job.params["title"]) == 300
    assert run(job).status == "succeeded"
