"""The Library page, in process: who sees what, and the form with and
without htmx. The broker is a stub nobody consumes, so jobs stay queued."""

from __future__ import annotations

import re

import pytest

from jobs.models import Job
from tests.pagekit import HTMX, PAGES, job_of, row_html, section, video_of  # noqa: F401
from videos.models import Video

# -- the Library ----------------------------------------------------------------


def test_the_library_lists_only_your_own_videos(client, users):
    alice, bob = users["alice"], users["bob"]
    video_of(alice, "Alice Song")
    video_of(bob, "Bob Song")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "Alice Song" in html and "Bob Song" not in html
    client.force_login(bob)
    html = client.get("/").content.decode()
    assert "Bob Song" in html and "Alice Song" not in html


def test_staff_see_every_video(client, users):
    video_of(users["alice"], "Alice Song")
    video_of(users["bob"], "Bob Song")
    client.force_login(users["staff"])
    html = client.get("/").content.decode()
    assert "Alice Song" in html and "Bob Song" in html


def test_an_empty_library_says_how_to_start(client, users):
    client.force_login(users["alice"])
    html = client.get("/").content.decode()
    assert 'id="no-videos"' in html and "Paste a video URL" in html
    assert 'id="add-form"' in html
    assert re.search(r'<input type="checkbox" name="download"\s+checked', html)


def test_each_row_shows_the_video_state(client, users):
    alice = users["alice"]
    done = video_of(
        alice,
        "Done",
        artist="Band",
        status="downloaded",
        file="Band/Band - Done [x].mp4",
        file_size=364_000,
        duration=6.0,
    )
    broken = video_of(alice, "Broken", status="failed", error="HTTP Error 404: Not Found")
    busy = video_of(alice, "Busy", status="downloading")
    job = job_of(alice, busy, status="running", percent=42.5, stage="downloading", speed=1e5)
    wanted = video_of(alice, "Wanted")
    client.force_login(alice)
    html = client.get("/").content.decode()

    row = row_html(html, f"video-{done.pk}")
    assert "Downloaded" in row and "Band/Band - Done [x].mp4" in row and "0:06" in row
    assert "Download again" in row
    row = row_html(html, f"video-{broken.pk}")
    assert "Failed" in row and "HTTP Error 404" in row and "Retry" in row
    row = row_html(html, f"video-{busy.pk}")
    assert "Downloading" in row
    assert f'id="progress-{job.pk}"' in row
    assert '<progress value="42.5" max="100">' in row
    assert f'action="/videos/{busy.pk}/cancel/"' in row
    row = row_html(html, f"video-{wanted.pk}")
    assert "Wanted" in row and f'action="/videos/{wanted.pk}/download/"' in row


def test_the_library_filters_by_status(client, users):
    video_of(users["alice"], "Done", status="downloaded")
    video_of(users["alice"], "Broken", status="failed")
    client.force_login(users["alice"])
    html = client.get("/?status=failed").content.decode()
    assert "Broken" in html and "Done" not in html
    html = client.get("/?status=bogus").content.decode()
    assert "Broken" in html and "Done" in html


def test_adding_a_video_with_the_form_first_finds_out_what_the_url_is(client, users):
    client.force_login(users["alice"])
    url = "https://videos.example.com/watch?v=abc"
    response = client.post(
        "/videos/add/", {"url": f"  {url} ", "artist": "Band", "title": "Song", "download": "on"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    video = Video.objects.get()
    assert (video.owner, video.url, video.artist_name, video.title) == (
        users["alice"],
        url,
        "Band",
        "Song",
    )
    # The download waits for the metadata job: the URL may be a playlist or feed.
    assert video.status == "wanted"
    job = Job.objects.get(subject=video.subject)
    assert (job.kind, job.status) == ("extract_video_info", "queued")
    assert job.params == {"video_id": video.pk, "resolve": True, "download": True}
    assert "Song" in client.get("/").content.decode()


def test_adding_without_download_now_only_reads_the_info(client, users):
    client.force_login(users["alice"])
    client.post("/videos/add/", {"url": "https://videos.example.com/watch?v=abc"})
    video = Video.objects.get()
    assert video.status == "wanted"
    job = Job.objects.get()
    assert job.kind == "extract_video_info" and job.params["download"] is False


def test_adding_with_htmx_returns_the_new_row_and_a_fresh_form(client, users):
    client.force_login(users["alice"])
    url = "https://videos.example.com/watch?v=abc"
    response = client.post("/videos/add/", {"url": url, "download": "on"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    video = Video.objects.get()
    form = html[: html.index("</form>")]
    assert form.lstrip().startswith('<form id="add-form"')
    assert 'name="url"' in form and 'value=""' in form and url not in form
    assert "<html" not in html
    assert 'hx-swap-oob="afterbegin:#video-rows"' in html
    row = row_html(html, f"video-{video.pk}")
    assert "Wanted" in row and f'href="{url}"' in row
    info = Job.objects.get(kind="extract_video_info")
    assert f'id="progress-{info.pk}"' in row
    assert '<p id="no-videos" hx-swap-oob="delete">' in html


def test_adding_a_url_already_in_the_library_links_to_it_and_adds_nothing(client, users):
    client.force_login(users["alice"])
    url = "https://videos.example.com/watch?v=abc"
    client.post("/videos/add/", {"url": url}, headers=HTMX)
    video = Video.objects.get()
    response = client.post("/videos/add/", {"url": url, "download": "on"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="add-form"')
    notice = html[html.index('id="add-notice"') :]
    assert "Already in your library" in notice
    assert f'<a href="/videos/{video.pk}/">' in notice
    assert "<article" not in html and 'value=""' in html
    assert Video.objects.count() == 1
    assert list(Job.objects.values_list("kind", flat=True)) == ["extract_video_info"]
    # Without htmx: the same words on the Library, as a message.
    response = client.post("/videos/add/", {"url": url}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    flashes = response.content.decode()
    flashes = flashes[
        flashes.index('id="flashes"') : flashes.index("</div>", flashes.index('id="flashes"'))
    ]
    assert "Already in your library" in flashes and f'href="/videos/{video.pk}/"' in flashes
    assert Video.objects.count() == 1


BAD_URLS = [
    ("", "required"),
    ("not-a-url", "Only http:// and https://"),
    ("https://videos.example.com/a clip", "spaces"),
    ("ftp://videos.example.com/a.mp4", "Only http:// and https://"),
    ("javascript:alert(1)", "Only http:// and https://"),
    ("https://user:secret@videos.example.com/a", "user name or password"),
    ("https://videos.example.com/" + "a" * 2100, "2048"),
]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_a_bad_url_comes_back_with_the_form_and_its_error(client, users, url, message):
    client.force_login(users["alice"])
    response = client.post("/videos/add/", {"url": url, "download": "on"}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="add-form"')
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert message in html
    assert not Video.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize(("url", "message"), BAD_URLS[1:3])
def test_a_bad_url_without_htmx_shows_the_error_on_the_library(client, users, url, message):
    client.force_login(users["alice"])
    response = client.post("/videos/add/", {"url": url}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    html = response.content.decode()
    assert 'class="flash error"' in html and message in html
    assert not Video.objects.exists() and not Job.objects.exists()


def test_download_and_cancel_buttons_work_on_your_own_video(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song")
    client.force_login(alice)
    response = client.post(f"/videos/{video.pk}/download/", headers=HTMX)
    assert response.status_code == 200
    job = Job.objects.get(kind="download_video")
    assert job.status == "queued"
    row = response.content.decode()
    assert row.lstrip().startswith(f'<article id="video-{video.pk}"')
    assert f'id="progress-{job.pk}"' in row and "Cancel" in row

    response = client.post(f"/videos/{video.pk}/cancel/", headers=HTMX)
    assert response.status_code == 200
    job.refresh_from_db()
    video.refresh_from_db()
    assert job.status == "cancelled" and video.status == "wanted"
    row = response.content.decode()
    assert ">Cancelled<" in row and f'action="/videos/{video.pk}/download/"' in row

    assert client.post(f"/videos/{video.pk}/download/")["Location"] == "/"


@pytest.mark.parametrize("action", ["download", "cancel"])
def test_another_users_video_cannot_be_downloaded_or_cancelled(client, users, action):
    video = video_of(users["bob"], "Bob Song")
    job = job_of(users["bob"], video, status="running")
    client.force_login(users["alice"])
    for headers in ({}, HTMX):
        response = client.post(f"/videos/{video.pk}/{action}/", headers=headers)
        assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == "running"
    assert Job.objects.count() == 1


def test_page_views_refuse_get_for_actions(client, users):
    video = video_of(users["alice"])
    client.force_login(users["alice"])
    for path in ("/videos/add/", f"/videos/{video.pk}/download/", f"/videos/{video.pk}/cancel/"):
        assert client.get(path).status_code == 405
    assert not Job.objects.exists()
