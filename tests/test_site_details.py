"""Small things a first visit shows: the icon, the admin's lists, a finished
download's log line. (How the System page's cards and a log's error rows are
laid out is checked in a browser: tests/test_browser_details.py.)"""

from __future__ import annotations

from pathlib import Path

from django.contrib import admin
from django.contrib.staticfiles import finders
from django_dramatiq.models import Task

from jobs.models import Job
from tests.pagekit import job_of, video_of
from videos.tasks import DownloadVideo


def test_every_page_links_the_icon_and_favicon_ico_leads_to_it(client, users):
    icon = finders.find("mvidarr/favicon.svg")
    assert icon and Path(icon).read_text().lstrip().startswith("<svg")
    for path in ("/login/", "/"):
        if path == "/":
            client.force_login(users["alice"])
        html = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/mvidarr/favicon.svg" type="image/svg+xml">' in html
    client.logout()
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/mvidarr/favicon.svg"


def test_favicon_ico_answers_before_the_first_account_exists(client, first_run):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")


def test_the_admin_shows_sizes_for_people_and_no_task_table(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    video_of(users["alice"], "Big", status="downloaded", file="a/b.mp4", file_size=364_000)
    small = video_of(users["alice"], "Small", status="downloaded", file="a/c.mp4", file_size=999)
    client.force_login(users["staff"])
    html = client.get("/admin/videos/video/").content.decode()
    assert "355.5\xa0KB" in html and "999\xa0bytes" in html and "364000" not in html
    page = client.get(f"/admin/videos/video/{small.pk}/change/").content.decode()
    assert "999\xa0bytes" in page and 'name="file_size"' not in page
    assert not admin.site.is_registered(Task)
    assert "/admin/django_dramatiq/" not in client.get("/admin/").content.decode()
    assert client.get("/admin/django_dramatiq/task/").status_code == 404


def test_a_finished_download_logs_where_its_file_was_saved(users, tmp_path, settings):
    """The download kind's last step, without yt-dlp: a file already moved."""
    settings.LIBRARY_DIR = tmp_path
    target = tmp_path / "Band" / "Band - Song [x].mp4"
    target.parent.mkdir()
    target.write_bytes(b"\0" * 100)
    alice = users["alice"]
    video = video_of(alice, "Song", artist="Band")
    job = job_of(alice, video, status="running")
    stored = {"path": str(target), "info": {}, "media": {}}
    assert DownloadVideo().succeeded(job, stored)["file"] == "Band/Band - Song [x].mp4"
    messages = list(Job.objects.get(pk=job.pk).logs.values_list("message", flat=True))
    assert "Saved to Band/Band - Song [x].mp4" in messages
