"""Login throttling: 10 failures for one username or one client address within
15 minutes lock further attempts out for 15 minutes, right password or not,
on the login page and the admin login alike; every failure is logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt

from mvidarr.security import client_ip
from tests.live import PASSWORD

LOGIN_PAGES = ["/login/", "/admin/login/"]


def attempt(client, path: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_ten_failures_for_one_username_lock_it_even_from_other_addresses(client, users, path):
    users["staff"].is_superuser = True
    users["staff"].save()
    for i in range(9):
        assert attempt(client, path, "staff", "wrong", f"10.0.1.{i}").status_code == 200
    attempt(client, path, "staff", "wrong", "10.0.1.9")  # the tenth failure locks
    locked = attempt(client, path, "staff", PASSWORD, "10.0.2.1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from yet another address is not affected.
    assert attempt(client, "/login/", "bob", PASSWORD, "10.0.3.1").status_code == 302


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_ten_failures_from_one_address_lock_it_for_every_username(client, users, path):
    for i in range(10):
        attempt(client, path, f"nobody{i}", "wrong", "10.9.9.9")
    assert attempt(client, path, "alice", PASSWORD, "10.9.9.9").status_code == 429
    assert attempt(client, "/login/", "alice", PASSWORD, "10.9.9.8").status_code == 302


def test_nine_failures_still_let_the_right_password_in(client, users):
    for _ in range(9):
        attempt(client, "/login/", "alice", "wrong")
    assert attempt(client, "/login/", "alice", PASSWORD).status_code == 302


def test_the_lockout_ends_after_fifteen_minutes(client, users):
    for _ in range(10):
        attempt(client, "/login/", "alice", "wrong")
    assert attempt(client, "/login/", "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16)
    )
    assert attempt(client, "/login/", "alice", PASSWORD).status_code == 302


def test_every_failure_is_logged(client, users, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(3):
            attempt(client, "/login/", "alice", "wrong", "10.7.7.7")
    failures = [r for r in caplog.records if "failure" in r.getMessage().lower()]
    assert len(failures) == 3
    assert "alice" in failures[0].getMessage() and "10.7.7.7" in failures[0].getMessage()


def test_behind_a_tls_proxy_the_address_the_proxy_appended_counts(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert client_ip(request) == "10.0.0.2"
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "198.51.100.7"
    request.META["HTTP_X_FORWARDED_FOR"] = "not an address"
    assert client_ip(request) == "10.0.0.2"
