"""The server-rendered pages, in process: first-run setup, login, who sees
what, and the job pages. (The Library: test_library_page.py.)

The broker here is a stub nobody consumes, so submitted jobs stay queued."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model

from jobs.models import Job
from tests.live import PASSWORD
from tests.pagekit import HTMX, PAGES, job_of, row_html, section, video_of  # noqa: F401
from videos.models import Video

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


def test_a_page_that_does_not_exist_is_the_site_s_own_404_page(client, users):
    client.force_login(users["alice"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html and 'href="/"' in html and "Log out" in html


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
    response = client.post(f"/jobs/{job.pk}/cancel/", {"next": "/activity/"}, headers=HTMX)
    assert response.status_code == 302 and response["Location"] == "/activity/"
    html = client.get("/activity/").content.decode()
    assert f'id="job-{job.pk}"' not in html
    assert f'id="recent-{job.pk}"' in section(html, "recent") and "cancelled" in html
    video.refresh_from_db()
    assert video.status == "wanted"

    other = job_of(alice, video_of(alice, "Other"))
    response = client.post(f"/jobs/{other.pk}/cancel/")
    assert response.status_code == 302 and response["Location"] == "/activity/"
