"""The server-rendered pages, in process: first-run setup, login, who sees
what, and the Library form with and without htmx.

The broker here is a stub nobody consumes, so submitted jobs stay queued."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model

from jobs.models import Job
from mvidarr import middleware
from tests.live import PASSWORD
from videos.models import Video

HTMX = {"HX-Request": "true"}
PAGES = ["/", "/activity/", "/?status=failed"]


@pytest.fixture
def first_run(db, monkeypatch):
    """No account exists yet (and the middleware has not seen one)."""
    monkeypatch.setattr(middleware, "_has_users", False)


def video_of(user, title="Song", **fields) -> Video:
    fields.setdefault("url", f"https://videos.example.com/watch?v={uuid.uuid4().hex}")
    return Video.objects.create(owner=user, title=title, **fields)


def job_of(user, video=None, status="queued", kind="download_video", **fields) -> Job:
    if video is not None:
        fields.setdefault("subject", video.subject)
        fields.setdefault("label", video.label)
        fields.setdefault("params", {"video_id": video.pk})
    return Job.objects.create(kind=kind, owner=user, status=status, **fields)


def section(html: str, name: str) -> str:
    """The HTML of <section id="name"> on the Activity page."""
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def row_html(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</article>", start)]


# -- first run ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/activity/", "/login/", f"/jobs/{uuid.uuid4()}/", "/admin/", "/nowhere/"]
)
def test_before_the_first_account_every_page_leads_to_setup(client, first_run, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_before_the_first_account_the_api_health_check_still_answers(client, first_run):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_setup_page_asks_for_the_admin_account(client, first_run):
    response = client.get("/setup/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Create the administrator account" in html
    for name in ("username", "password1", "password2"):
        assert f'name="{name}"' in html


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [
        (PASSWORD, PASSWORD + "x", "didn’t match"),
        ("qwertyuiop", "qwertyuiop", "too common"),
        ("x7!", "x7!", "too short"),
        ("admin123", "admin123", "too similar to the username"),
    ],
)
def test_setup_refuses_mismatched_or_weak_passwords(
    client, first_run, password1, password2, message
):
    response = client.post(
        "/setup/", {"username": "admin", "password1": password1, "password2": password2}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'value="admin"' in html  # the name is kept, the passwords are not
    assert f'value="{password1}"' not in html
    assert not get_user_model().objects.exists()


def test_setup_creates_a_staff_superuser_logs_in_and_then_goes_away(client, first_run):
    response = client.post(
        "/setup/", {"username": "admin", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    admin = get_user_model().objects.get()
    assert admin.username == "admin"
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password(PASSWORD)

    library = client.get("/")
    assert library.status_code == 200
    assert b"Log out" in library.content
    assert client.get("/admin/").status_code == 200

    again = client.get("/setup/")
    assert again.status_code == 302 and again["Location"] == "/"
    take_over = client.post(
        "/setup/", {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert take_over.status_code == 302
    client.logout()
    assert client.get("/setup/")["Location"] == "/"
    assert client.get("/")["Location"] == "/login/?next=/"
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["admin"]


# -- login ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/activity/", "/?status=downloaded", f"/jobs/{uuid.uuid4()}/"]
)
def test_pages_need_a_login(client, users, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={quote(path, safe='/')}"


@pytest.mark.parametrize("path", ["/videos/add/", "/videos/1/download/", "/videos/1/cancel/"])
def test_actions_need_a_login(client, users, path):
    response = client.post(path, {"url": "https://videos.example.com/x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not Video.objects.exists()


def test_logging_in_leads_back_to_the_page_asked_for(client, users):
    login = client.get("/login/?next=/activity/")
    assert login.status_code == 200
    assert b'name="next" value="/activity/"' in login.content
    wrong = client.post("/login/", {"username": "alice", "password": "nope", "next": "/activity/"})
    assert wrong.status_code == 200
    assert b'role="alert"' in wrong.content
    right = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/activity/"}
    )
    assert right.status_code == 302 and right["Location"] == "/activity/"
    assert client.get("/activity/").status_code == 200


def test_logging_out_needs_a_post_and_ends_the_session(client, users):
    client.force_login(users["alice"])
    assert b'action="/logout/"' in client.get("/").content
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


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


def test_adding_a_video_with_the_form_queues_its_download(client, users):
    client.force_login(users["alice"])
    url = "https://videos.example.com/watch?v=abc"
    response = client.post(
        "/videos/add/", {"url": f"  {url} ", "artist": "Band", "title": "Song", "download": "on"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    video = Video.objects.get()
    assert (video.owner, video.url, video.artist, video.title) == (
        users["alice"],
        url,
        "Band",
        "Song",
    )
    assert video.status == "downloading"
    kinds = set(Job.objects.filter(subject=video.subject).values_list("kind", "status"))
    assert kinds == {("extract_video_info", "queued"), ("download_video", "queued")}
    assert "Song" in client.get("/").content.decode()


def test_adding_without_download_now_only_reads_the_info(client, users):
    client.force_login(users["alice"])
    client.post("/videos/add/", {"url": "https://videos.example.com/watch?v=abc"})
    video = Video.objects.get()
    assert video.status == "wanted"
    assert list(Job.objects.values_list("kind", flat=True)) == ["extract_video_info"]


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
    assert "Downloading" in row and f'href="{url}"' in row
    download = Job.objects.get(kind="download_video")
    assert f'id="progress-{download.pk}"' in row
    assert '<p id="no-videos" hx-swap-oob="delete">' in html


def test_adding_the_same_url_again_moves_its_row_instead_of_copying_it(client, users):
    client.force_login(users["alice"])
    url = "https://videos.example.com/watch?v=abc"
    client.post("/videos/add/", {"url": url}, headers=HTMX)
    response = client.post("/videos/add/", {"url": url}, headers=HTMX)
    video = Video.objects.get()
    html = response.content.decode()
    assert f'<div id="video-{video.pk}" hx-swap-oob="delete">' in html
    assert html.count(f'<article id="video-{video.pk}"') == 1
    assert Job.objects.filter(kind="extract_video_info").count() == 1


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
    assert "Wanted" in row and f'action="/videos/{video.pk}/download/"' in row

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


# -- jobs -------------------------------------------------------------------------


def test_job_detail_shows_your_job_and_its_log(client, users):
    alice = users["alice"]
    job = job_of(alice, video_of(alice, "Song"), status="failed", error="HTTP Error 404")
    job.log("error", "HTTP Error 404: Not Found")
    client.force_login(alice)
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Song" in html and "HTTP Error 404: Not Found" in html
    assert f'ws-connect="/ws/ui/?page=job&amp;job={job.pk}"' in html
    assert "Cancel" not in html


def test_another_users_job_is_not_found(client, users):
    job = job_of(users["bob"], video_of(users["bob"]), status="running")
    client.force_login(users["alice"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{uuid.uuid4()}/").status_code == 404
    assert client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX).status_code == 404
    job.refresh_from_db()
    assert job.status == "running"
    client.force_login(users["staff"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


def test_the_activity_page_shows_running_queued_and_recent_jobs(client, users):
    alice = users["alice"]
    running = job_of(alice, video_of(alice, "Running Song"), status="running", percent=10.0)
    queued = job_of(alice, video_of(alice, "Queued Song"))
    done = job_of(alice, video_of(alice, "Done Song"), status="succeeded")
    failed = job_of(alice, video_of(alice, "Failed Song"), status="failed", error="It broke")
    for job in (done, failed):
        Job.objects.filter(pk=job.pk).update(finished_at=job.created_at)
    hidden = job_of(users["bob"], video_of(users["bob"], "Bob Song"), status="running")
    client.force_login(alice)
    response = client.get("/activity/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'ws-connect="/ws/ui/?page=activity"' in html

    assert f'id="job-{running.pk}"' in section(html, "running")
    assert '<progress value="10.0" max="100">' in section(html, "running")
    assert f'id="job-{queued.pk}"' in section(html, "queued")
    recent = section(html, "recent")
    assert f'id="recent-{done.pk}"' in recent and f'id="recent-{failed.pk}"' in recent
    assert "It broke" in recent
    assert str(hidden.pk) not in html and "Bob Song" not in html

    client.force_login(users["staff"])
    html = client.get("/activity/").content.decode()
    assert f'id="job-{hidden.pk}"' in section(html, "running") and "bob" in html


def test_an_empty_activity_page_says_so(client, users):
    client.force_login(users["alice"])
    html = client.get("/activity/").content.decode()
    assert "Nothing is running." in section(html, "running")
    assert "The queue is empty." in section(html, "queued")
    assert "No finished jobs yet." in section(html, "recent")


def test_cancelling_on_the_activity_page_returns_the_updated_lists(client, users):
    alice = users["alice"]
    video = video_of(alice, "Song", status="downloading")
    job = job_of(alice, video)
    client.force_login(alice)
    response = client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="activity-live">')
    assert f'id="job-{job.pk}"' not in html
    assert f'id="recent-{job.pk}"' in section(html, "recent") and "cancelled" in html
    video.refresh_from_db()
    assert video.status == "wanted"

    other = job_of(alice, video_of(alice, "Other"))
    response = client.post(f"/jobs/{other.pk}/cancel/")
    assert response.status_code == 302 and response["Location"] == "/activity/"
