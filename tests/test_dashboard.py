"""The Activity dashboard, the job history, job actions and the Library's bulk
download: in process first (the broker is a stub, so jobs stay queued), then
live in a real browser against a running MVidarr."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from jobs.models import Job, PausedQueue, WorkerBeat
from jobs.views import activity_context
from tests.pagekit import HTMX, job_of, row_html, section, video_of
from videos.models import Video
from videos.tasks import start_bulk_download


def figure(html: str, name: str) -> int:
    match = re.search(rf'id="count-{name}".*?<strong>([\d,]+)</strong>', html, re.S)
    return int(match.group(1).replace(",", ""))


def finish(job: Job, when=None) -> Job:
    Job.objects.filter(pk=job.pk).update(finished_at=when or timezone.now())
    job.refresh_from_db()
    return job


def queued_order(html: str) -> list[str]:
    return re.findall(r'<article id="job-([0-9a-f-]+)"', section(html, "queued"))


# -- the dashboard ----------------------------------------------------------------


def test_the_dashboard_shows_figures_and_why_each_job_waits(client, users):
    alice = users["alice"]
    WorkerBeat.objects.create(name="w1", queues={"video_downloads": 1, "metadata": 1})
    running = job_of(alice, video_of(alice, "Running"), status="running", queue="video_downloads")
    Job.objects.filter(pk=running.pk).update(attempts=2, percent=40.0, speed=2e5, eta=75)
    slot = job_of(alice, video_of(alice, "Slot"), queue="video_downloads")
    later = job_of(alice, video_of(alice, "Later"), queue="metadata", attempts=1, error="HTTP 503")
    Job.objects.filter(pk=later.pk).update(retry_at=timezone.now() + timedelta(minutes=5))
    nobody = job_of(alice, kind="ping", queue="default", label="Nobody")
    finish(job_of(alice, status="succeeded", label="Done"))
    finish(job_of(alice, status="failed", label="Broke", error="boom"))
    finish(job_of(alice, status="failed", label="Old"), timezone.now() - timedelta(days=3))
    finish(job_of(alice, status="cancelled", label="Stopped"))
    job_of(users["bob"], video_of(users["bob"], "Bob"), status="running")
    client.force_login(alice)
    html = client.get("/activity/").content.decode()

    counts = {s: figure(html, s) for s in ("queued", "running", "succeeded", "failed", "cancelled")}
    assert counts == {"queued": 3, "running": 1, "succeeded": 1, "failed": 2, "cancelled": 1}
    assert re.search(r'id="succeeded-last-hour"><strong>1</strong>', html)
    assert re.search(r'id="failed-last-24h" class="bad"><strong>1</strong>', html)
    assert "<strong>1</strong> worker alive" in html
    assert "video_downloads</code> 1 queued · 1 running" in html
    row = row_html(html, f"job-{running.pk}")
    assert "attempt 2 of 3" in row and '<progress value="40.0"' in row
    assert re.search(r"195.3\sKB/s", row) and 'ETA <span class="eta">1:15</span>' in row
    queued = section(html, "queued")
    assert ">Waiting for a free slot<" in row_html(queued, f"job-{slot.pk}")
    assert re.search(r">Retry at \d\d:\d\d:\d\d", row_html(queued, f"job-{later.pk}"))
    assert "Last attempt: HTTP 503" in row_html(queued, f"job-{later.pk}")
    assert ">No worker alive<" in row_html(queued, f"job-{nobody.pk}")
    assert "Download now" in row_html(queued, f"job-{slot.pk}")
    assert "Run next" in row_html(queued, f"job-{nobody.pk}")
    assert "Bob" not in html and "Pause downloads" not in html and "/system/" not in html

    PausedQueue.pause("video_downloads")
    html = client.get("/activity/").content.decode()
    assert ">Paused<" in row_html(section(html, "queued"), f"job-{slot.pk}")
    assert "Downloads are paused" in html


def test_the_live_lists_take_a_fixed_number_of_queries(users, django_assert_max_num_queries):
    alice = users["alice"]
    videos = [video_of(alice, f"Song {i}") for i in range(30)]
    start_bulk_download(alice, videos[:10])
    for video in videos[10:20]:
        job_of(alice, video)
    for video in videos[20:]:
        finish(job_of(alice, video, status="failed", error="x"))
    start_bulk_download(alice, videos[20:25])

    # 12, and once per user: 2 for its permissions (which buttons it may see), 1 for
    # whose library it sees.
    with django_assert_max_num_queries(15):
        render_to_string("jobs/activity.html#live", activity_context(alice))


def test_a_parent_shows_how_many_children_are_done_and_links_both_ways(client, users):
    alice = users["alice"]
    parent = start_bulk_download(alice, [video_of(alice, f"Song {i}") for i in range(3)])
    child = parent.children.order_by("created_at").first()
    Job.objects.filter(pk=child.pk).update(status="succeeded", finished_at=timezone.now())
    client.force_login(alice)
    html = client.get("/activity/").content.decode()
    # No child runs: the parent waits with the queued jobs.
    row = row_html(section(html, "queued"), f"job-{parent.pk}")
    assert "<strong>1 of 3</strong> done · 2 queued" in row
    assert f'href="/jobs/{parent.pk}/"' in row and "attempt" not in row
    sibling = parent.children.filter(status="queued").first()
    assert f'part of <a href="/jobs/{parent.pk}/">Download 3 videos</a>' in row_html(
        section(html, "queued"), f"job-{sibling.pk}"
    )
    page = client.get(f"/jobs/{parent.pk}/").content.decode()
    assert "<strong>1 of 3</strong> done" in page and "Attempt" not in page
    page = client.get(f"/jobs/{sibling.pk}/").content.decode()
    assert f'<dt>Part of</dt><dd><a href="/jobs/{parent.pk}/">' in page
    assert '<dd class="attempt">not started yet' in page and "Download now" in page


def test_download_now_moves_a_job_to_the_front(client, users):
    alice = users["alice"]
    jobs = [job_of(alice, video_of(alice, f"Song {i}"), queue="video_downloads") for i in range(3)]
    client.force_login(alice)
    before = queued_order(client.get("/activity/").content.decode())
    assert before == [str(j.pk) for j in jobs]
    response = client.post(f"/jobs/{jobs[2].pk}/prioritize/")
    assert response.status_code == 302 and response["Location"] == "/activity/"
    # htmx follows the same redirect and picks the lists out of the page.
    response = client.post(f"/jobs/{jobs[1].pk}/prioritize/", {"next": "/activity/"}, headers=HTMX)
    assert response.status_code == 302 and response["Location"] == "/activity/"
    html = client.get("/activity/").content.decode()
    assert queued_order(html) == [str(jobs[1].pk), str(jobs[2].pk), str(jobs[0].pk)]
    client.force_login(users["bob"])
    assert client.post(f"/jobs/{jobs[0].pk}/prioritize/").status_code == 404


def test_staff_pause_and_resume_from_the_dashboard_but_others_cannot(client, users):
    client.force_login(users["alice"])
    response = client.post("/system/pause/", {"next": "/activity/"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not PausedQueue.objects.exists()

    client.force_login(users["staff"])
    html = client.get("/activity/").content.decode()
    assert "Pause downloads" in html and 'href="/system/"' in html
    response = client.post("/system/pause/", {"next": "/activity/"})
    assert response.status_code == 302 and response["Location"] == "/activity/"
    assert PausedQueue.is_paused("video_downloads")
    response = client.post("/system/resume/", {"next": "/activity/"}, headers=HTMX)
    assert response["Location"] == "/activity/"
    html = client.get("/activity/").content.decode()
    assert 'hx-select="#activity-live"' in html and "Pause downloads" in html
    assert not PausedQueue.objects.exists()
    response = client.post("/system/pause/", {"next": "https://evil.example.com/"})
    assert response["Location"] == "/system/"


def test_the_system_link_is_for_staff_only(client, users):
    client.force_login(users["alice"])
    assert 'href="/system/"' not in client.get("/").content.decode()
    client.force_login(users["staff"])
    assert 'href="/system/"' in client.get("/").content.decode()


# -- history ------------------------------------------------------------------------


def test_history_filters_searches_and_pages_keeping_the_filters(client, users):
    alice, now = users["alice"], timezone.now()
    old = now - timedelta(days=10)
    Job.objects.bulk_create(
        Job(
            kind="download_video",
            owner=alice,
            status="failed",
            label=f"Song {i}",
            error="HTTP Error 404" if i % 2 else "timed out",
            finished_at=now - timedelta(minutes=i),
        )
        for i in range(60)
    )
    finish(job_of(alice, status="succeeded", label="Happy"), old)
    finish(job_of(alice, kind="extract_video_info", status="cancelled", label="Info"))
    finish(job_of(users["bob"], status="failed", label="Bob's"))
    client.force_login(alice)

    html = client.get("/activity/history/").content.decode()
    assert html.count('<tr id="history-') == 50 and "Bob&#x27;s" not in html
    assert "62 jobs" in html
    html = client.get("/activity/history/?status=succeeded").content.decode()
    assert "Happy" in html and html.count('<tr id="history-') == 1
    html = client.get("/activity/history/?kind=extract_video_info").content.decode()
    assert "Info" in html and html.count('<tr id="history-') == 1
    day = old.date().isoformat()
    html = client.get(f"/activity/history/?from={day}&to={day}").content.decode()
    assert "Happy" in html and html.count('<tr id="history-') == 1
    html = client.get(f"/activity/history/?to={day}&from=not-a-date").content.decode()
    assert "From: Enter a valid date." in html and html.count('<tr id="history-') == 1

    html = client.get("/activity/history/?status=failed&q=404").content.decode()
    assert "30 jobs" in html and "Page" not in html
    html = client.get("/activity/history/?status=failed&q=song").content.decode()
    assert "60 jobs" in html and "Page 1 of 2" in html
    next_link = re.search(r'href="([^"]+)" rel="next"', html).group(1)
    assert next_link == "?status=failed&amp;q=song&amp;page=2"
    html = client.get("/activity/history/?status=failed&q=song&page=2").content.decode()
    assert html.count('<tr id="history-') == 10 and 'rel="prev"' in html
    assert "No finished jobs match" in client.get("/activity/history/?q=zzz").content.decode()


def test_history_offers_retry_on_failed_and_cancelled_jobs(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song")
    failed = finish(job_of(alice, video, status="failed", error="boom"))
    done = finish(job_of(alice, video_of(alice, "Done"), status="succeeded"))
    client.force_login(alice)
    html = client.get("/activity/history/?q=o").content.decode()
    assert f'action="/jobs/{failed.pk}/retry/"' in html
    assert f'action="/jobs/{done.pk}/retry/"' not in html

    response = client.post(f"/jobs/{failed.pk}/retry/", {"next": "/activity/history/?q=o"})
    assert response.status_code == 302 and response["Location"] == "/activity/history/?q=o"
    new = Job.objects.get(status="queued")
    same = ("kind", "subject", "params", "label")
    assert [getattr(new, f) for f in same] == [getattr(failed, f) for f in same]
    html = client.get(response["Location"]).content.decode()
    assert f'href="/jobs/{new.pk}/">a new job</a>' in html
    video.refresh_from_db()
    assert video.status == "downloading"


def test_retry_without_htmx_goes_back_and_refuses_what_cannot_be_retried(client, users):
    alice = users["alice"]
    failed = finish(job_of(alice, video_of(alice), status="cancelled"))
    done = finish(job_of(alice, video_of(alice), status="succeeded"))
    bulk = start_bulk_download(alice, [video_of(alice)])
    bulk.cancel()
    client.force_login(alice)
    response = client.post(f"/jobs/{failed.pk}/retry/", {"next": "/activity/history/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/activity/history/?q=x"
    new = Job.objects.get(status="queued")
    assert "a new job" in client.get("/activity/history/").content.decode()
    for job in (done, bulk, new):
        assert client.post(f"/jobs/{job.pk}/retry/", headers=HTMX).status_code == 409
    client.post(f"/jobs/{done.pk}/retry/")
    assert Job.objects.filter(status="queued").count() == 1
    page = client.get(f"/jobs/{failed.pk}/").content.decode()
    assert f'action="/jobs/{failed.pk}/retry/"' in page
    page = f"/jobs/{new.pk}/"
    response = client.post(f"/jobs/{new.pk}/cancel/", {"next": page}, headers=HTMX)
    assert response["Location"] == page
    assert f'action="/jobs/{new.pk}/retry/"' in client.get(page).content.decode()
    response = client.post(f"/jobs/{new.pk}/retry/")  # from the job's page: to the new job's
    newest = Job.objects.get(status="queued")
    assert response["Location"] == f"/jobs/{newest.pk}/"
    client.force_login(users["bob"])
    assert client.post(f"/jobs/{failed.pk}/retry/").status_code == 404


def test_a_job_waiting_to_retry_shows_when(client, users):
    alice = users["alice"]
    job = job_of(alice, video_of(alice), attempts=1, error="HTTP 503")
    Job.objects.filter(pk=job.pk).update(retry_at=timezone.now() + timedelta(minutes=2))
    client.force_login(alice)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<dd class="attempt">1 of 3</dd>' in html and "<dt>Next attempt</dt>" in html
    assert "<dt>Last error</dt>" in html and "Retry</button>" not in html


# -- the Library's bulk download -------------------------------------------------------


def test_download_selected_makes_one_parent_for_your_own_videos(client, users):
    alice, bob = users["alice"], users["bob"]
    mine = [video_of(alice, f"Mine {i}") for i in range(3)]
    theirs = video_of(bob, "Theirs")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert '<form id="bulk-form"' in html and 'data-select-all="bulk-form"' in html
    assert f'name="video" value="{mine[0].pk}" form="bulk-form"' in row_html(
        html, f"video-{mine[0].pk}"
    )

    ids = [mine[0].pk, mine[1].pk, theirs.pk, "x"]
    response = client.post("/videos/bulk/download/", {"video": ids})
    assert response.status_code == 302 and response["Location"] == "/activity/"
    parent = Job.objects.get(kind="bulk_download_videos")
    assert parent.owner == alice and parent.is_parent
    children = parent.children.all()
    assert {c.params["video_id"] for c in children} == {mine[0].pk, mine[1].pk}
    assert {c.owner_id for c in children} == {alice.pk}
    assert {v.status for v in mine[:2]} == {"wanted"}  # the objects read before
    assert {Video.objects.get(pk=v.pk).status for v in mine[:2]} == {"downloading"}
    assert Video.objects.get(pk=theirs.pk).status == "wanted"
    assert not Job.objects.filter(subject=theirs.subject).exists()
    assert "Queued 2 downloads" in client.get("/activity/").content.decode()

    assert client.post("/videos/bulk/download/", {"video": [theirs.pk]}).status_code == 404
    response = client.post("/videos/bulk/download/", {"next": "/?status=wanted"})
    assert response["Location"] == "/?status=wanted"
    assert Job.objects.filter(kind="bulk_download_videos").count() == 1


def test_download_selected_with_htmx_shows_a_message_and_updates_the_rows(client, users):
    alice = users["alice"]
    videos = [video_of(alice, f"Song {i}") for i in range(2)]
    client.force_login(alice)
    response = client.post(
        "/videos/bulk/download/", {"video": [v.pk for v in videos]}, headers=HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<p class="flash success"') and "Queued 2 downloads" in html
    for video in videos:
        row = row_html(html, f"video-{video.pk}")
        assert 'hx-swap-oob="true"' in row and "Downloading" in row and "Cancel" in row
    html = client.post("/videos/bulk/download/", headers=HTMX).content.decode()
    assert 'class="flash error"' in html and "Select at least one video" in html


@pytest.mark.parametrize("path", ["/activity/history/", "/videos/bulk/download/"])
def test_the_new_pages_need_a_login(client, users, path):
    response = client.post(path) if "bulk" in path else client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
