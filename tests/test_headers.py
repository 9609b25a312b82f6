"""Security headers: a CSP that allows only our own scripts, and the
MVIDARR_BEHIND_TLS_PROXY switch (secure cookies, HSTS, forwarded proto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.live import REPO


@pytest.mark.parametrize("path", ["/login/", "/", "/activity/", "/admin/"])
def test_pages_allow_only_our_own_scripts(client, users, path):
    client.force_login(users["staff"])
    csp = client.get(path).headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp


def test_no_page_carries_an_inline_script_or_handler(client, users):
    client.force_login(users["staff"])
    for path in ("/login/", "/", "/activity/", "/activity/history/", "/system/"):
        html = client.get(path).content.decode()
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">", 1)[0], f"inline script on {path}"
        assert " onclick=" not in html and " onload=" not in html and "hx-on" not in html


def settings_with(**env: str) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mvidarr.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_behind_a_tls_proxy_cookies_are_secure_and_hsts_is_on():
    secure, csrf_secure, hsts, proxy_header = settings_with(MVIDARR_BEHIND_TLS_PROXY="true")
    assert secure and csrf_secure and hsts >= 30 * 24 * 3600
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings_with(MVIDARR_BEHIND_TLS_PROXY="false") == [False, False, 0, None]


def test_behind_a_tls_proxy_responses_carry_hsts_and_secure_cookies(client, users, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    response = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]
