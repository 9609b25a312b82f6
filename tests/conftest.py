from __future__ import annotations

import json
import logging

import pytest

from tests.apikit import METRICS_TOKEN
from tests.browserkit import browser, console, page  # noqa: F401 (shared fixtures)
from tests.integrationkit import FakeJellyfin, FakePlex, Hook
from tests.live import PASSWORD, LiveApp
from tests.media import MediaServer


@pytest.fixture(scope="session")
def media():
    with MediaServer() as server:
        yield server


@pytest.fixture(scope="session")
def embedded_app():
    with LiveApp("embedded") as app:
        yield app


@pytest.fixture(scope="session")
def redis_app():
    with LiveApp("redis") as app:
        yield app


@pytest.fixture(scope="module")
def idle_app():
    """Embedded mode with its database and users, and no ``serve`` running
    (a command then runs the workers itself); one per test module."""
    app = LiveApp("embedded").prepare()
    yield app
    app.stop()


@pytest.fixture(scope="session", params=["embedded", "redis"])
def ops_app(request):
    """The app for the operations tests, in each mode: a metrics token, JSON
    logs, and one download at a time (so that others queue)."""
    env = {
        "MVIDARR_METRICS_TOKEN": METRICS_TOKEN,
        "LOG_FORMAT": "json",
        "MVIDARR_DOWNLOAD_CONCURRENCY": "1",
    }
    with LiveApp(request.param, extra_env=env) as app:
        yield app


@pytest.fixture(params=["embedded", "redis"])
def app(request):
    """The running app, once in each mode."""
    return request.getfixturevalue(f"{request.param}_app")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOW_PRIVATE_URLS = True


@pytest.fixture(autouse=True)
def _fresh_config():
    """No run-time setting cached from another test's (rolled back) saves."""
    # Django's apps are ready only once pytest-django has set them up.
    from mvidarr import config

    config.invalidate()
    yield
    config.invalidate()


@pytest.fixture
def hook():
    """A local webhook recording what Apprise's json:// sends it."""
    with Hook() as server:
        yield server


@pytest.fixture
def jellyfin():
    with FakeJellyfin() as server:
        yield server


@pytest.fixture
def plex():
    with FakePlex() as server:
        yield server


@pytest.fixture
def first_run(db, monkeypatch):
    """No account exists yet (and the middleware has not seen one)."""
    # Django's apps are ready only once pytest-django has set them up.
    from mvidarr import middleware

    monkeypatch.setattr(middleware, "_has_users", False)


@pytest.fixture
def users(db, django_user_model):
    """alice and bob (ordinary users) and staff, in the test database."""
    return {
        name: django_user_model.objects.create_user(
            name, password=PASSWORD, is_staff=name == "staff"
        )
        for name in ("alice", "bob", "staff")
    }


@pytest.fixture
def keys(users):
    """An API key for each of alice, bob and staff."""
    # Django's apps are ready only once pytest-django has set them up.
    from mvidarr.models import ApiKey

    return {name: ApiKey.issue(user)[1] for name, user in users.items()}


@pytest.fixture
def api(client, keys):
    """``api("post", "/videos", user="bob", body={...})``: the JSON API in-process."""

    def call(method, path, user="alice", body=None, raw=None, **headers):
        if user:
            headers["HTTP_X_API_KEY"] = keys[user]
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if method == "get" or data is None:
            return getattr(client, method)(f"/api{path}", **headers)
        return getattr(client, method)(
            f"/api{path}", data=data, content_type="application/json", **headers
        )

    return call


logging.getLogger("httpx").setLevel(logging.WARNING)

LIVE_FIXTURES = {
    "media",
    "app",
    "embedded_app",
    "redis_app",
    "retrying_app",
    "server",
    "guarded_app",
    "public",
    "internal",
    "fresh_app",
    "fuzz_app",
    "api_schema",
    "ops_app",
    "imvdb_app",
}


def pytest_collection_modifyitems(items):
    """Mark tests that run real processes (the app, the media server) as
    ``live``, so the database-only tests can be run again on their own."""
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
