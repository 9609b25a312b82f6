"""What a finishing job writes is seen together with its outcome, whatever
order other writes land in: a download is never seen finished under its URL;
a parent is settled by its children, whether the attempt book's last write
of it or their overlapping transactions land last, and never waits "running"
until the watchdog takes it back (90 s)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from jobs import attempts
from jobs.attempts import book
from jobs.models import WORKER_ID, Job
from jobs.models.family import ChildSpec
from jobs.models.queryset import JobQuerySet
from jobs.supervisor import run_attempt
from videos.tasks import DownloadVideo, start_playlist


@pytest.mark.django_db(transaction=True)
def test_a_download_is_never_seen_finished_under_its_url(users, media, monkeypatch):
    # The video's other jobs are named after the commit: as seen before that.
    monkeypatch.setattr(JobQuerySet, "relabel", lambda *args: 0)
    url = media.url(f"page/clip.html?key={uuid.uuid4().hex}")
    job = DownloadVideo().start(users["alice"], {"url": url})
    assert job.label == url
    run_attempt(str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.label.startswith("Test video clip")


@pytest.mark.django_db(transaction=True)
def test_a_playlists_last_progress_write_cannot_undo_its_waiting(users, media, monkeypatch):
    # The book writes only when told to, and writes right after the parent
    # starts waiting: the worst moment for its child's last "listing".
    monkeypatch.setattr(attempts, "WRITE_EVERY", 3600)
    wait = Job.wait_for_children

    def wait_then_write(job):
        wait(job)
        book._write()

    monkeypatch.setattr(Job, "wait_for_children", wait_then_write)
    feed = media.url(f"feed.xml?n=2&key={uuid.uuid4().hex}")
    parent = start_playlist(users["alice"], feed, None)
    run_attempt(str(parent.pk))
    parent.refresh_from_db()
    assert (parent.status, parent.stage) == ("running", "waiting")
    assert Job.objects.filter(parent=parent).count() == 2
    # Its children settle it from here on.
    for child in Job.objects.filter(parent=parent):
        Job.claim(child.pk, WORKER_ID).mark_succeeded({})
    parent.refresh_from_db()
    assert parent.status == "succeeded"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one at a time")
@pytest.mark.django_db(transaction=True)
def test_children_finishing_in_overlapping_transactions_settle_their_parent(users):
    parent = Job.start_parent("bulk_download_videos", users["alice"], label="Two pings")
    parent.add_children("ping", [ChildSpec(f"ping:{n}") for n in range(2)])
    parent.wait_for_children()
    first, second = (Job.claim(child.pk, WORKER_ID) for child in Job.objects.filter(parent=parent))
    first_written, second_written = threading.Event(), threading.Event()
    errors = []

    def finish(
        child: Job, start: threading.Event, written: threading.Event, commit: threading.Event
    ):
        try:
            start.wait(10)
            with transaction.atomic():
                assert child.mark_succeeded({})
                written.set()
                commit.wait(1)  # a second at most, should the other one block meanwhile
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    # The second child finishes while the first's finish is written, not committed.
    now = threading.Event()
    now.set()
    threads = [
        threading.Thread(target=finish, args=(first, now, first_written, second_written)),
        threading.Thread(target=finish, args=(second, first_written, second_written, now)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    parent.refresh_from_db()
    assert parent.status == "succeeded"
    assert parent.result["children"]["succeeded"] == 2


@pytest.mark.django_db(transaction=True)
def test_an_attempt_leaves_the_book_only_once_a_write_under_way_has_committed(users, monkeypatch):
    monkeypatch.setattr(attempts, "WRITE_EVERY", 3600)
    job, _ = Job.submit("ping", users["alice"])
    job = Job.claim(job.pk, WORKER_ID)
    book_of_test = attempts.Attempts()
    attempt = book_of_test.add(job)
    book_of_test.progress(attempt, {"stage": "listing"})
    writing, go_on = threading.Event(), threading.Event()
    write = Job.write_progress

    def slow_write(self, state, now):
        writing.set()
        go_on.wait(10)
        return write(self, state, now)

    monkeypatch.setattr(Job, "write_progress", slow_write)
    writer = threading.Thread(target=lambda: (book_of_test._write(), connection.close()))
    writer.start()
    assert writing.wait(10)
    remover = threading.Thread(target=book_of_test.remove, args=(attempt,))
    remover.start()
    remover.join(0.3)
    assert remover.is_alive()  # the write has its snapshot: removing waits for it
    go_on.set()
    writer.join(10), remover.join(10)
    assert not remover.is_alive()
    job.refresh_from_db()
    assert job.stage == "listing"
    # Now the attempt writes its row alone.
    Job.objects.filter(pk=job.pk).update(stage="waiting")
    book_of_test._write()
    job.refresh_from_db()
    assert job.stage == "waiting"
