"""What the Activity page lists and counts: metadata look-ups folded away
unless asked for, parents that only wait sitting with the queued jobs, and
jobs named by their video's title once it is known."""

from __future__ import annotations

import re

from django.utils import timezone

from jobs.models import Job, PausedQueue
from jobs.views import activity_context
from tests.pagekit import job_of, row_html, section, video_of
from videos.tasks import start_bulk_download


def figure(html: str, name: str) -> int:
    return int(re.search(rf'id="count-{name}".*?<strong>(\d+)</strong>', html, re.S).group(1))


def recent_row(html: str, job: Job) -> str:
    start = html.index(f'<tr id="recent-{job.pk}"')
    return html[start : html.index("</tr>", start)]


def finished(job: Job) -> Job:
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now())
    return job


def test_metadata_jobs_stay_out_of_the_lists_and_figures_unless_asked(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song")
    download = finished(job_of(alice, video, status="succeeded"))
    info = finished(job_of(alice, video, kind="extract_video_info", status="succeeded"))
    failed_info = finished(job_of(alice, video, kind="extract_video_info", status="failed"))
    running_info = job_of(alice, video_of(alice, "Other"), "running", "extract_video_info")
    client.force_login(alice)

    html = client.get("/activity/").content.decode()
    assert f'id="recent-{download.pk}"' in html
    for job in (info, failed_info, running_info):
        assert f"-{job.pk}" not in html
    counts = {s: figure(html, s) for s in ("running", "succeeded", "failed")}
    assert counts == {"running": 0, "succeeded": 1, "failed": 0}
    assert 'ws-connect="/ws/ui/?page=activity"' in html
    assert re.search(r'<a id="quiet-jobs" href="\?jobs=all"[^>]*>Show metadata jobs</a>', html)

    html = client.get("/activity/?jobs=all").content.decode()
    for job in (download, info, failed_info):
        assert f'id="recent-{job.pk}"' in html
    assert "extract_video_info" in row_html(section(html, "running"), f"job-{running_info.pk}")
    counts = {s: figure(html, s) for s in ("running", "succeeded", "failed")}
    assert counts == {"running": 1, "succeeded": 2, "failed": 1}
    # The socket redraws the same view, and buttons come back to it.
    assert 'ws-connect="/ws/ui/?page=activity&amp;jobs=all"' in html
    assert 'name="next" value="/activity/?jobs=all"' in html
    assert re.search(r'<a id="quiet-jobs" href="/activity/"[^>]*>Hide metadata jobs</a>', html)
    html = client.get("/activity/?jobs=bogus").content.decode()
    assert "Show metadata jobs" in html and f"recent-{info.pk}" not in html


def test_the_live_redraw_keeps_the_view_it_was_opened_with(users):
    alice = users["alice"]
    info = finished(job_of(alice, video_of(alice), kind="extract_video_info", status="succeeded"))
    assert info not in activity_context(alice)["recent"]
    assert info in activity_context(alice, everything=True)["recent"]


def test_a_parent_whose_children_are_held_by_a_pause_waits_with_the_queued_jobs(client, users):
    alice = users["alice"]
    parent = start_bulk_download(alice, [video_of(alice, f"Song {i}") for i in range(3)])
    PausedQueue.pause("video_downloads", "Disk full: 3 MB free")
    client.force_login(alice)
    html = client.get("/activity/").content.decode()

    assert f'id="job-{parent.pk}"' not in section(html, "running")
    row = row_html(section(html, "queued"), f"job-{parent.pk}")
    assert "<strong>0 of 3</strong> done · 3 queued" in row and ">Paused<" in row
    assert "<progress" not in row and "Cancel" in row and "Download now" not in row
    assert figure(html, "running") == 0 and figure(html, "queued") == 4
    assert re.search(r'<h2 id="running-title">Running <span class="count">0</span>', html)
    assert re.search(r'<h2 id="queued-title">Queued <span class="count">4</span>', html)
    assert "<code>default</code> 1 queued · 0 running" in html

    PausedQueue.resume("video_downloads")
    row = row_html(client.get("/activity/").content.decode(), f"job-{parent.pk}")
    assert ">Waiting for its jobs to start<" in row


def test_a_parent_with_a_running_child_is_running(client, users):
    alice = users["alice"]
    parent = start_bulk_download(alice, [video_of(alice, f"Song {i}") for i in range(2)])
    Job.objects.filter(pk=parent.children.first().pk).update(status="running")
    PausedQueue.pause("video_downloads")
    client.force_login(alice)
    html = client.get("/activity/").content.decode()
    row = row_html(section(html, "running"), f"job-{parent.pk}")
    assert "1 running" in row and "<progress" in row
    assert figure(html, "running") == 2 and figure(html, "queued") == 1


def test_a_job_named_by_its_url_takes_the_title_once_it_is_known(
    client, users, django_capture_on_commit_callbacks
):
    alice = users["alice"]
    video = video_of(alice, "", url="https://videos.example.com/watch?v=abc")
    done = finished(job_of(alice, video, status="succeeded"))
    info = job_of(alice, video, kind="extract_video_info", status="running")
    other = job_of(alice, video_of(alice, "", url="https://videos.example.com/other"))
    assert done.label == "https://videos.example.com/watch?v=abc"

    with django_capture_on_commit_callbacks(execute=True):
        video.apply_info({"title": "Real Title", "artist": "Band"})
    labels = dict(Job.objects.values_list("pk", "label"))
    assert labels[done.pk] == labels[info.pk] == "Band - Real Title"
    assert labels[other.pk] == "https://videos.example.com/other"
    client.force_login(alice)
    html = client.get("/activity/").content.decode()
    assert ">Band - Real Title</a>" in recent_row(html, done)


def test_relabelling_never_touches_jobs_without_a_subject(users):
    ping = job_of(users["alice"], kind="ping", label="Ping")
    assert Job.objects.relabel("", "Everything") == 0
    ping.refresh_from_db()
    assert ping.label == "Ping"
