"""Who may open a socket: the Origin rule, session and API-key auth, and the
JSON protocol's answers to bad messages."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mvidarr.wsauth import origin_allowed
from tests.live import PASSWORD


def session_cookie(app, user: str) -> str:
    with httpx.Client(base_url=app.base_url) as web:
        page = web.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = web.post(
            "/login/", data={"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302, response.text
        return f"sessionid={web.cookies['sessionid']}"


def refused(url: str, **headers: str) -> int:
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers=headers, open_timeout=5).close()
    return info.value.response.status_code


@pytest.fixture(scope="module")
def alice_cookie(embedded_app):
    return session_cookie(embedded_app, "alice")


@pytest.mark.parametrize("path", ["/ws/jobs/", "/ws/ui/?page=library"])
def test_a_session_socket_from_our_own_origin_is_accepted(embedded_app, alice_cookie, path):
    origin = embedded_app.base_url
    with connect(
        embedded_app.ws_url + path, additional_headers={"Cookie": alice_cookie, "Origin": origin}
    ) as ws:
        ws.send(json.dumps({"type": "ping"}))
        if path == "/ws/jobs/":
            assert json.loads(ws.recv(5)) == {"type": "pong"}


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example:8000",
        "http://localhost:9999",
        "http://127.0.0.1",
    ],
)
def test_a_foreign_origin_is_refused_even_with_a_valid_session(embedded_app, alice_cookie, origin):
    assert refused(f"{embedded_app.ws_url}/ws/jobs/", Cookie=alice_cookie, Origin=origin) == 403
    assert refused(f"{embedded_app.ws_url}/ws/ui/", Cookie=alice_cookie, Origin=origin) == 403


def test_our_host_with_another_scheme_or_port_is_a_foreign_origin(embedded_app, alice_cookie):
    port = embedded_app.port
    for origin in (f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"):
        assert refused(f"{embedded_app.ws_url}/ws/jobs/", Cookie=alice_cookie, Origin=origin) == 403


def test_a_socket_without_session_or_key_is_refused(embedded_app):
    assert refused(f"{embedded_app.ws_url}/ws/jobs/", Origin=embedded_app.base_url) == 403
    assert refused(f"{embedded_app.ws_url}/ws/jobs/") == 403


def test_a_wrong_api_key_is_refused(embedded_app):
    assert refused(f"{embedded_app.ws_url}/ws/jobs/", **{"X-Api-Key": "mvk_wrong"}) == 403


def test_bearer_keys_open_the_socket(embedded_app):
    headers = {"Authorization": f"Bearer {embedded_app.keys['bob']}"}
    with connect(f"{embedded_app.ws_url}/ws/jobs/", additional_headers=headers) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        assert json.loads(ws.recv(5))["type"] == "snapshot"


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"type": "launch"}',
        '{"type": "subscribe", "job_id": "../../etc"}',
        '{"type": "subscribe", "job_id": 12}',
        '{"type": "subscribe", "job_id": "00000000-0000-0000-0000-000000000000"}',
        '{"type": "cancel"}',
    ],
)
def test_bad_messages_get_an_error_frame_and_the_socket_stays_open(embedded_app, message):
    with connect(
        f"{embedded_app.ws_url}/ws/jobs/", additional_headers=embedded_app.ws_headers("alice")
    ) as ws:
        ws.send(message)
        reply = json.loads(ws.recv(5))
        assert reply["type"] == "error" and reply["message"]
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(5)) == {"type": "pong"}


def scope_for(host: str, scheme: str = "ws", **headers: str) -> tuple[dict, dict]:
    raw = {b"host": host.encode(), **{k.encode(): v.encode() for k, v in headers.items()}}
    return {"type": "websocket", "scheme": scheme}, raw


def test_the_origin_must_match_scheme_host_and_port(settings):
    settings.ALLOWED_HOSTS = ["media.example.com"]
    assert origin_allowed("http://media.example.com:8000", *scope_for("media.example.com:8000"))
    assert not origin_allowed("http://media.example.com", *scope_for("media.example.com:8000"))
    assert not origin_allowed("http://media.example.com:8000", *scope_for("media.example.com"))
    assert origin_allowed("https://media.example.com", *scope_for("media.example.com", "wss"))
    assert not origin_allowed("http://media.example.com", *scope_for("media.example.com", "wss"))


def test_a_host_outside_allowed_hosts_has_no_origin_of_its_own(settings):
    """A DNS-rebound page sends its own name as Host and Origin alike."""
    settings.ALLOWED_HOSTS = [".example.com"]
    assert not origin_allowed("http://evil.test:8000", *scope_for("evil.test:8000"))
    assert origin_allowed("http://a.example.com:8000", *scope_for("a.example.com:8000"))


def test_trusted_origins_and_the_forwarded_proto_count(settings):
    settings.ALLOWED_HOSTS = ["media.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.example.net"]
    scope = scope_for("media.example.com")
    assert origin_allowed("https://app.example.org", *scope)
    assert origin_allowed("https://tv.example.net", *scope)
    assert not origin_allowed("http://tv.example.net", *scope)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind = scope_for("media.example.com", **{"x-forwarded-proto": "https"})
    assert origin_allowed("https://media.example.com", *behind)
    assert not origin_allowed("http://media.example.com", *behind)
