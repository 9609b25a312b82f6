"""The Settings page: staff change run-time settings that take effect without
a restart; an environment variable wins and is shown read-only; secrets are
never shown back; everyone else is kept out; bad input is answered on the
form with a 4xx; "Send test" reaches the notification endpoint."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from integrations import notify
from jobs.models import Job
from jobs.supervisor import run_attempt
from mvidarr import config
from mvidarr.models import RuntimeSetting
from videos.models import Video

TOKEN = "0123456789abcdef-secret-token-WXYZ"


@pytest.fixture
def staff_client(client, users):
    client.force_login(users["staff"])
    return client


def page(client) -> str:
    response = client.get("/settings/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_settings_pages_link_each_other_and_the_nav_leads_to_them(staff_client):
    for path in ("/settings/", "/settings/profiles/"):
        html = staff_client.get(path).content.decode()
        assert 'href="/settings/"' in html and 'href="/settings/profiles/"' in html
        assert '<a href="/settings/" aria-current="page">Settings</a>' in html


def test_staff_change_settings_that_apply_without_a_restart(staff_client, users):
    form = {
        "section": "downloads",
        "downloads-JOB_MAX_ATTEMPTS": "5",
        "downloads-JOB_RETRY_DELAY": "30",
        "downloads-LIBRARY_TEMPLATE": "{artist}/{title} ({year}) [{id}].{ext}",
    }
    response = staff_client.post("/settings/", form, follow=True)
    assert b"Saved." in response.content
    assert config.get("JOB_MAX_ATTEMPTS") == 5 and config.get("JOB_RETRY_DELAY") == 30
    assert config.get("LIBRARY_TEMPLATE") == "{artist}/{title} ({year}) [{id}].{ext}"
    assert RuntimeSetting.objects.get(name="JOB_MAX_ATTEMPTS").updated_by == users["staff"]
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4")
    assert video.request_download(users["alice"])[0].max_attempts == 5
    # Back to the default: the row goes, so a new default would apply.
    form["downloads-JOB_MAX_ATTEMPTS"] = str(settings.JOB_MAX_ATTEMPTS)
    staff_client.post("/settings/", form)
    assert not RuntimeSetting.objects.filter(name="JOB_MAX_ATTEMPTS").exists()
    assert config.source("JOB_MAX_ATTEMPTS") == "default"


def test_an_environment_variable_wins_and_is_shown_read_only(staff_client, monkeypatch):
    # The test run sets MVIDARR_MIN_FREE_MB (see tests/pytest_env.py).
    monkeypatch.setenv("MVIDARR_JELLYFIN_URL", "http://jellyfin.lan:8096")
    monkeypatch.setattr(settings, "JELLYFIN_URL", "http://jellyfin.lan:8096")
    monkeypatch.setenv("MVIDARR_PLEX_TOKEN", TOKEN)
    monkeypatch.setattr(settings, "PLEX_TOKEN", TOKEN)
    html = page(staff_client)
    for variable in ("MVIDARR_MIN_FREE_MB", "MVIDARR_JELLYFIN_URL", "MVIDARR_PLEX_TOKEN"):
        assert f"set by {variable}" in html
    [field] = re.findall(r'<input [^>]*name="jellyfin-JELLYFIN_URL"[^>]*>', html)
    assert 'value="http://jellyfin.lan:8096"' in field and " disabled " in field
    assert TOKEN not in html and "set (…WXYZ)" in html
    form = {
        "section": "jellyfin",
        "jellyfin-JELLYFIN_URL": "http://elsewhere:8096",
        "jellyfin-JELLYFIN_TOKEN": "a-token",
    }
    assert staff_client.post("/settings/", form).status_code == 302
    assert config.get("JELLYFIN_URL") == "http://jellyfin.lan:8096"
    assert config.get("JELLYFIN_TOKEN") == "a-token"  # not set by the environment
    staff_client.post("/settings/", {"section": "downloads", "downloads-MIN_FREE_MB": "99999"})
    assert config.get("MIN_FREE_MB") == settings.MIN_FREE_MB
    assert not RuntimeSetting.objects.filter(name__in=["JELLYFIN_URL", "MIN_FREE_MB"]).exists()


def test_secrets_are_never_shown_back_and_an_empty_box_keeps_them(staff_client, caplog):
    form = {"section": "imvdb", "imvdb-IMVDB_API_KEY": TOKEN}
    staff_client.post("/settings/", form)
    assert config.get("IMVDB_API_KEY") == TOKEN
    html = page(staff_client)
    assert TOKEN not in html and "set (…WXYZ)" in html
    staff_client.post("/settings/", {"section": "imvdb", "imvdb-IMVDB_API_KEY": ""})
    assert config.get("IMVDB_API_KEY") == TOKEN
    staff_client.post("/settings/", {"section": "imvdb", "imvdb-IMVDB_API_KEY__forget": "on"})
    assert config.get("IMVDB_API_KEY") == "" and "not set" in page(staff_client)
    assert "IMVDB_API_KEY" in caplog.text and TOKEN not in caplog.text


def test_notification_urls_are_added_shown_masked_and_removed(staff_client):
    secret_url = "json://bob:" + TOKEN + "@127.0.0.1:9999/hook"
    response = staff_client.post("/settings/notify/add/", {"url": secret_url}, follow=True)
    assert b"Notification URL added." in response.content
    assert config.get("NOTIFY_URLS") == [secret_url]
    html = page(staff_client)
    assert TOKEN not in html and "json://bob:****@127.0.0.1:9999/hook" in html
    again = staff_client.post("/settings/notify/add/", {"url": secret_url})
    assert again.status_code == 422 and b"already in the list" in again.content
    assert TOKEN.encode() not in again.content  # what was typed is not shown back either
    fingerprint = notify.fingerprint(secret_url)
    staff_client.post("/settings/notify/remove/", {"fingerprint": fingerprint})
    assert config.get("NOTIFY_URLS") == []
    gone = staff_client.post("/settings/notify/remove/", {"fingerprint": fingerprint})
    assert gone.status_code == 404


def test_events_are_picked_on_the_page(staff_client):
    form = {"section": "notifications", "notifications-NOTIFY_EVENTS": ["job_failed"]}
    staff_client.post("/settings/", form)
    assert config.get("NOTIFY_EVENTS") == ["job_failed"]
    staff_client.post("/settings/", {"section": "notifications"})
    assert config.get("NOTIFY_EVENTS") == []


def test_the_environment_holds_notification_urls_read_only(staff_client, monkeypatch):
    url = f"json://u:{TOKEN}@127.0.0.1:9/x"
    monkeypatch.setenv("MVIDARR_NOTIFY_URLS", url)
    monkeypatch.setattr(settings, "NOTIFY_URLS", [url])
    html = page(staff_client)
    assert "set by MVIDARR_NOTIFY_URLS" in html and 'id="notify-add"' not in html
    assert TOKEN not in html and "json://u:****@127.0.0.1:9/x" in html
    response = staff_client.post("/settings/notify/add/", {"url": "json://127.0.0.1:1/y"})
    assert response.status_code == 409
    assert config.get("NOTIFY_URLS") == [url]


def test_send_test_from_the_page_reaches_the_endpoint(staff_client, hook, users):
    staff_client.post("/settings/notify/add/", {"url": hook.json_url("from-page")})
    assert staff_client.post("/settings/notify/test/").status_code == 302
    staff_client.post("/settings/notify/test/")  # a second click while it waits: same job
    [job] = Job.objects.filter(kind="send_notification")
    assert job.owner == users["staff"] and job.subject == "integration:notify"
    run_attempt(str(job.pk))
    [call] = hook.calls_to("POST", "/from-page")
    assert call.json()["title"] == "MVidarr test notification"
    assert "Sent by staff" in call.json()["message"]
    assert "Sent to 1 target(s)" in page(staff_client)


def test_send_test_without_a_url_says_what_to_do(staff_client):
    response = staff_client.post("/settings/notify/test/", follow=True)
    assert b"Add a notification URL first." in response.content
    assert not Job.objects.filter(kind="send_notification").exists()


@pytest.mark.parametrize(
    "form, error",
    [
        ({"section": "downloads", "downloads-JOB_MAX_ATTEMPTS": "10" * 20},
         "less than or equal to 20"),
        ({"section": "downloads", "downloads-JOB_RETRY_DELAY": "-1"},
         "greater than or equal to 0"),
        ({"section": "downloads", "downloads-JOB_MAX_ATTEMPTS": "3\x00"}, "whole number"),
        ({"section": "downloads", "downloads-LIBRARY_TEMPLATE": "../{title}.{ext}"},
         "relative path"),
        ({"section": "downloads", "downloads-LIBRARY_TEMPLATE": "{title}\x00.{ext}"},
         "Null characters are not allowed"),
        ({"section": "downloads", "downloads-LIBRARY_TEMPLATE": "{__class__}.{ext}"},
         "not a placeholder"),
        ({"section": "jellyfin", "jellyfin-JELLYFIN_URL": "ftp://media.lan"}, "http://"),
        ({"section": "jellyfin", "jellyfin-JELLYFIN_URL": "javascript:alert(1)"}, "http://"),
        ({"section": "jellyfin", "jellyfin-JELLYFIN_URL": "http://x:99999"}, "Not a URL"),
        ({"section": "jellyfin", "jellyfin-JELLYFIN_URL": "http://a b"}, "no spaces"),
        ({"section": "jellyfin", "jellyfin-JELLYFIN_URL": "http://h/" + "a" * 600},
         "at most 500"),
        ({"section": "plex", "plex-PLEX_TOKEN": "two words"}, "without spaces"),
        ({"section": "plex", "plex-PLEX_TOKEN": "line\r\nX-Injected: 1"}, "without spaces"),
        ({"section": "notifications", "notifications-NOTIFY_EVENTS": "everything"},
         "Select a valid choice"),
    ],
)  # fmt: skip
def test_bad_input_is_answered_on_the_form(staff_client, form, error):
    response = staff_client.post("/settings/", form)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not RuntimeSetting.objects.exists()


@pytest.mark.parametrize(
    "url, error",
    [
        ("nonsense://x", "Apprise does not know this URL"),
        ("", "This field is required"),
        ("json://127.0.0.1/\x00", "Null characters are not allowed"),
        ("json://h/" + "a" * 2001, "at most 2000"),
    ],
)
def test_a_bad_notification_url_is_answered_on_the_form(staff_client, url, error):
    response = staff_client.post("/settings/notify/add/", {"url": url})
    assert response.status_code == 422 and error in response.content.decode()
    assert config.get("NOTIFY_URLS") == []


def test_at_most_twenty_notification_urls(staff_client):
    config.save({"NOTIFY_URLS": [f"json://127.0.0.1:{n}/x" for n in range(1, 21)]})
    response = staff_client.post("/settings/notify/add/", {"url": "json://127.0.0.1:80/x"})
    assert response.status_code == 422 and b"At most 20 URLs." in response.content


def test_an_unknown_section_is_a_bad_request(staff_client):
    assert staff_client.post("/settings/", {"section": "secrets"}).status_code == 400
    assert staff_client.post("/settings/", {"section": "x\x00"}).status_code == 400


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/settings/"),
        ("post", "/settings/"),
        ("post", "/settings/notify/add/"),
        ("post", "/settings/notify/remove/"),
        ("post", "/settings/notify/test/"),
        ("post", "/settings/media-servers/jellyfin/test/"),
    ],
)
@pytest.mark.parametrize("who", ["alice", None])
def test_only_staff_reach_the_settings(client, users, method, path, who):
    if who:
        client.force_login(users[who])
    data = {"section": "imvdb", "imvdb-IMVDB_API_KEY": "mine", "url": "json://127.0.0.1:1/x"}
    response = getattr(client, method)(path, data)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not RuntimeSetting.objects.exists() and not Job.objects.exists()
