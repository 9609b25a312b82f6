"""What a video's state cell says (the Library row and the video page share
it) after a cancel and while downloads are paused, and the Library's banner
with its Resume button."""

from __future__ import annotations

import re

from django.utils import timezone

from jobs import pause
from jobs.models import Job, PausedQueue
from tests.pagekit import HTMX, job_of, row_html, video_of
from videos.views import render_row


def badge(html: str) -> str:
    return re.search(r'<span class="badge [^"]*"[^>]*>([^<]*)</span>', html).group(1)


def test_a_cancelled_download_says_cancelled_on_the_row_and_the_video_page(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song")
    client.force_login(alice)
    client.post(f"/videos/{video.pk}/download/")
    row = client.post(f"/videos/{video.pk}/cancel/", headers=HTMX).content.decode()
    assert badge(row) == "Cancelled" and ">Download</button>" in row
    video.refresh_from_db()
    assert video.status == "wanted"  # the API's status is unchanged

    assert badge(row_html(client.get("/").content.decode(), f"video-{video.pk}")) == "Cancelled"
    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert badge(page[page.index(f'id="video-{video.pk}-state"') :]) == "Cancelled"
    assert badge(render_row(video.subject, alice, "library")) == "Cancelled"
    assert badge(render_row(video.subject, alice, "video")) == "Cancelled"


def test_only_the_newest_download_decides_and_only_while_the_video_waits(client, users):
    alice = users["alice"]
    again = video_of(alice, "Again")  # cancelled, then downloaded again
    job_of(alice, again, status="cancelled", finished_at=timezone.now())
    job_of(alice, again, status="queued")
    failed = video_of(alice, "Failed", status="failed", error="HTTP Error 404")
    job_of(alice, failed, status="cancelled", finished_at=timezone.now())
    later = video_of(alice, "Later")  # cancelled long ago, then a download succeeded
    job_of(alice, later, status="cancelled", finished_at=timezone.now())
    job_of(alice, later, status="succeeded", finished_at=timezone.now())
    never = video_of(alice, "Never")
    client.force_login(alice)
    html = client.get("/").content.decode()
    states = {v.title: badge(row_html(html, f"video-{v.pk}")) for v in (again, failed, never)}
    assert states == {"Again": "Wanted", "Failed": "Failed", "Never": "Wanted"}
    assert badge(row_html(html, f"video-{later.pk}")) == "Wanted"


def test_a_download_held_by_a_pause_says_paused(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song")
    client.force_login(alice)
    client.post(f"/videos/{video.pk}/download/")
    row = row_html(client.get("/").content.decode(), f"video-{video.pk}")
    assert badge(row) == "Downloading"

    pause.pause()
    row = row_html(client.get("/").content.decode(), f"video-{video.pk}")
    assert badge(row) == "Paused" and "badge downloading" not in row and "Cancel" in row
    assert badge(render_row(video.subject, alice, "library")) == "Paused"
    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert badge(page[page.index(f'id="video-{video.pk}-state"') :]) == "Paused"

    running = Job.objects.get(kind="download_video")
    Job.objects.filter(pk=running.pk).update(status="running")  # running ones finish
    assert badge(render_row(video.subject, alice, "library")) == "Downloading"


def test_the_library_banner_says_why_downloads_are_paused_and_resumes_them(client, users):
    pause.pause(reason="Disk full: only 3 MB free on /data")
    client.force_login(users["staff"])
    html = client.get("/?status=downloading").content.decode()
    start = html.index('id="paused-banner"')
    banner = html[start : html.index("</div>", start)]
    assert "Downloads are paused." in banner and "Disk full: only 3 MB free on /data." in banner
    assert 'action="/system/resume/"' in banner and ">Resume downloads</button>" in banner
    assert 'name="next" value="/?status=downloading"' in banner

    response = client.post("/system/resume/", {"next": "/?status=downloading"})
    assert response.status_code == 302 and response["Location"] == "/?status=downloading"
    assert not PausedQueue.objects.exists()
    assert 'id="paused-banner"' not in client.get("/").content.decode()


def test_only_staff_get_the_resume_button(client, users):
    pause.pause(reason="Disk full")
    client.force_login(users["alice"])
    html = client.get("/").content.decode()
    assert 'id="paused-banner"' in html and "an administrator resumes them" in html
    assert "/system/resume/" not in html
    assert client.post("/system/resume/", {"next": "/"}).status_code == 302
    assert PausedQueue.objects.exists()
