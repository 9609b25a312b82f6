"""Bad input of any kind gets a 4xx answer over HTTP, never a 5xx, and NUL
characters never reach the database."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from tests.live import PASSWORD

HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def alice_web(embedded_app):
    web = httpx.Client(base_url=embedded_app.base_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/login/").text)
    web.post(
        "/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert "sessionid" in web.cookies
    yield web
    web.close()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/videos?page={HUGE}",
        f"/api/jobs?page={HUGE}",
        f"/api/videos/{HUGE}",
        "/api/videos?page=-1",
    ],
)
def test_huge_or_negative_numbers_in_api_urls_are_no_server_error(embedded_app, path):
    with embedded_app.client() as client:
        assert client.get(path).status_code < 500


@pytest.mark.parametrize(
    "path", [f"/?page={HUGE}", f"/activity/?page={HUGE}", f"/activity/history/?page={HUGE}"]
)
def test_huge_page_numbers_on_pages_are_no_server_error(alice_web, path):
    assert alice_web.get(path).status_code < 500


@pytest.mark.parametrize("ids", [[int(HUGE)], [2**63], [0], [-1]])
def test_a_huge_id_in_a_bulk_download_gets_a_4xx(embedded_app, ids):
    with embedded_app.client() as client:
        response = client.post("/api/videos/bulk/download", json={"video_ids": ids})
    assert 400 <= response.status_code < 500


def test_a_huge_or_odd_id_in_the_bulk_form_is_no_server_error(alice_web):
    token = alice_web.cookies["csrftoken"]
    response = alice_web.post(
        "/videos/bulk/download/",
        data={"video": [HUGE, "²", "1"], "csrfmiddlewaretoken": token},
    )
    assert response.status_code < 500


@pytest.mark.parametrize(
    "path",
    ["/static/..%2f..%2fmvidarr%2fsettings.py", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd"],
)
def test_path_tricks_under_static_get_a_4xx(embedded_app, path):
    # Sent verbatim: an HTTP client would normalise the path.
    with socket.create_connection(("127.0.0.1", embedded_app.port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        status = int(sock.recv(1024).split()[1])
    assert 400 <= status < 500


def test_nul_characters_in_titles_and_artists_are_never_stored(embedded_app):
    with embedded_app.client() as client:
        response = client.post(
            "/api/videos",
            json={
                "url": "http://127.0.0.1:9/nul.mp4",
                "title": "a\u0000b",
                "artist": "c\u0000\u001bd",
            },
        )
        assert response.status_code == 201
        video = client.get(f"/api/videos/{response.json()['id']}").json()
    assert video["title"] == "a b" and video["artist"] == "c d"


def test_nul_characters_from_a_form_are_refused(alice_web):
    response = alice_web.post(
        "/videos/add/",
        data={
            "url": "http://127.0.0.1:9/x.mp4",
            "title": "a\x00b",
            "csrfmiddlewaretoken": alice_web.cookies["csrftoken"],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
