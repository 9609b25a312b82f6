"""The API keys page, key scopes and revocation: every user makes, names and
revokes their own keys; a read key only looks; revoking closes the key's
sockets at once."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.core.management import call_command
from websockets.sync.client import connect

from mvidarr.models import MAX_KEY_NAME, MAX_KEYS_PER_USER, ApiKey
from tests.apikit import close_code, web_session
from tests.pagekit import job_of, video_of

RAW = re.compile(r'id="new-key-value" value="(mvk_[^"]+)"')


def create(client, name="script", scopes=("read", "control")):
    return client.post("/settings/keys/", {"name": name, "scopes": list(scopes)})


def raw_key(response) -> str:
    return RAW.search(response.content.decode()).group(1)


def test_a_new_key_is_shown_once_and_listed_by_name_scopes_and_never_used(client, users):
    client.force_login(users["alice"])
    response = create(client, "Grafana", ["read"])
    assert response.status_code == 200
    raw = raw_key(response)
    key = ApiKey.objects.get(user=users["alice"])
    assert (key.name, key.scopes, key.prefix) == ("Grafana", ["read"], raw[:12])
    assert 'data-copy="new-key-value"' in response.content.decode()
    page = client.get("/settings/keys/").content.decode()
    assert raw not in page  # only its prefix from now on
    row = page[page.index(f'id="key-{key.pk}"') :]
    assert "Grafana" in row and f"{key.prefix}…" in row and "never" in row.split("</tr>")[0]


def test_the_page_lists_only_my_keys_also_for_staff(client, users, keys):
    client.force_login(users["staff"])
    page = client.get("/settings/keys/").content.decode()
    mine = ApiKey.objects.get(user=users["staff"])
    assert f'id="key-{mine.pk}"' in page
    for other in ApiKey.objects.exclude(user=users["staff"]):
        assert f'id="key-{other.pk}"' not in page


def test_the_keys_page_needs_a_login_and_is_in_the_menu(client, users):
    assert client.get("/settings/keys/").status_code == 302
    client.force_login(users["bob"])
    assert 'href="/settings/keys/"' in client.get("/").content.decode()


def test_a_read_key_may_look_but_not_change_anything(client, users):
    alice = users["alice"]
    video = video_of(alice)
    job = job_of(alice, video)
    _, raw = ApiKey.issue(alice, "ro", scopes=["read"])
    headers = {"HTTP_X_API_KEY": raw}
    assert client.get("/api/videos", **headers).status_code == 200
    assert client.get(f"/api/jobs/{job.pk}", **headers).status_code == 200
    for method, path in [
        ("post", "/api/videos"),
        ("post", f"/api/jobs/{job.pk}/cancel"),
        ("patch", f"/api/videos/{video.pk}"),
        ("delete", f"/api/videos/{video.pk}"),
    ]:
        response = getattr(client, method)(
            path, data="{}", content_type="application/json", **headers
        )
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": "This API key is read-only."}
    bearer = client.post(f"/api/jobs/{job.pk}/cancel", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_control_key_without_read_may_do_everything_its_user_can(client, users):
    alice = users["alice"]
    job = job_of(alice, video_of(alice))
    _, raw = ApiKey.issue(alice, "ctl", scopes=["control"])
    assert client.get("/api/jobs", HTTP_X_API_KEY=raw).status_code == 200
    response = client.post(f"/api/jobs/{job.pk}/cancel", HTTP_X_API_KEY=raw)
    assert response.status_code == 202
    other = job_of(users["bob"], video_of(users["bob"]))
    assert client.post(f"/api/jobs/{other.pk}/cancel", HTTP_X_API_KEY=raw).status_code == 404


def test_a_key_needs_a_name_and_a_scope(client, users):
    client.force_login(users["alice"])
    response = create(client, "", [])
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Choose what the key may do" in page
    assert create(client, "x", ["admin"]).status_code == 400
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "a" * (MAX_KEY_NAME + 1),
        "nul\x00inside",
        "bell\x07",
        "   ",
        "\u202eevil",
    ],
)
def test_hostile_key_names_are_refused_with_a_clear_error(client, users, name):
    client.force_login(users["alice"])
    response = create(client, name)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not ApiKey.objects.exists()


def test_markup_in_a_key_name_is_shown_as_text(client, users):
    client.force_login(users["alice"])
    create(client, '<script>alert(1)</script>"><img src=x>')
    page = client.get("/settings/keys/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_user_holds_at_most_the_limit_of_keys(client, users):
    alice = users["alice"]
    for n in range(MAX_KEYS_PER_USER):
        ApiKey.issue(alice, f"k{n}")
    client.force_login(alice)
    response = create(client, "one too many")
    assert response.status_code == 400
    assert f"You have {MAX_KEYS_PER_USER} keys already" in response.content.decode()
    assert ApiKey.objects.filter(user=alice).count() == MAX_KEYS_PER_USER


def test_revoking_asks_first_and_only_my_own_keys(client, users):
    mine, raw = ApiKey.issue(users["alice"], "mine")
    theirs, _ = ApiKey.issue(users["bob"], "theirs")
    client.force_login(users["alice"])
    confirm = client.get(f"/settings/keys/{mine.pk}/revoke/")
    assert confirm.status_code == 200 and "Revoke the key" in confirm.content.decode()
    assert ApiKey.objects.filter(pk=mine.pk).exists()
    assert client.post(f"/settings/keys/{theirs.pk}/revoke/").status_code == 404
    assert client.post("/settings/keys/99999999999999999999/revoke/").status_code == 404
    response = client.post(f"/settings/keys/{mine.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert not ApiKey.objects.filter(pk=mine.pk).exists()
    assert ApiKey.objects.filter(pk=theirs.pk).exists()
    client.logout()
    assert client.get("/api/jobs", HTTP_X_API_KEY=raw).status_code == 401


def test_create_api_key_takes_a_name_and_scopes(users, capsys):
    call_command("create_api_key", "alice", "--name", "cron", "--scope", "read")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    key = ApiKey.objects.get(prefix=raw[:12])
    assert (key.name, key.scopes) == ("cron", ["read"])
    call_command("create_api_key", "alice")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiKey.objects.get(prefix=raw[:12]).scopes == ["read", "control"]


def test_a_read_keys_socket_may_follow_jobs_but_not_cancel_them(app):
    with app.client("alice") as alice:
        job = alice.post(
            "/api/jobs", json={"kind": "download_video", "url": "http://127.0.0.1:9/x"}
        )
    out = app.manage("create_api_key", "alice", "--scope", "read")
    raw = out.splitlines()[-1]
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers={"X-Api-Key": raw}) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        assert json.loads(ws.recv(5))["type"] == "snapshot"
        ws.send(json.dumps({"type": "cancel", "job_id": job.json()["id"]}))
        frame = json.loads(ws.recv(5))
        while frame["type"] != "error":
            frame = json.loads(ws.recv(5))
        assert frame["message"] == "This API key is read-only."


def test_revoking_a_key_on_the_page_closes_its_socket_within_two_seconds(app):
    """The app's sockets recheck their credential only every 30 s: the close
    comes from the revocation itself."""
    web = web_session(app, "alice")
    token = web.cookies["csrftoken"]
    post = {"headers": {"X-CSRFToken": token, "Referer": app.base_url + "/"}}
    made = web.post("/settings/keys/", data={"name": "live", "scopes": ["read"]}, **post)
    raw = RAW.search(made.text).group(1)
    key_id = re.search(r'href="/settings/keys/(\d+)/revoke/"', made.text).group(1)
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers={"X-Api-Key": raw}) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(5)) == {"type": "pong"}
        started = time.monotonic()
        web.post(f"/settings/keys/{key_id}/revoke/", **post)
        assert close_code(ws, timeout=2) == 4401
        assert time.monotonic() - started < 2
