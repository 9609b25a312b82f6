"""The ASGI handler: each request runs its whole middleware chain and view in
one step on the web server's few long-lived request threads, and gives its
database connection back when it is done."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import connection

from jobs.models import Job
from mvidarr.asgi import DjangoHandler

pytestmark = pytest.mark.django_db(transaction=True)


class RecordingHandler(DjangoHandler):
    """The handler, noting the thread each request's response was made on."""

    def __init__(self):
        super().__init__()
        self.threads_seen: list[str] = []

    def get_response(self, request):
        self.threads_seen.append(threading.current_thread().name)
        return super().get_response(request)


async def request(handler, method: str, path: str, headers: list) -> int:
    """One request through ``handler``; its status. (asgiref's communicator:
    channels' own one turns off the connection clean-up under test.)"""
    scope = {"type": "http", "method": method, "path": path, "query_string": b""}
    talk = ApplicationCommunicator(handler, {**scope, "headers": headers})
    await talk.send_input({"type": "http.request", "body": b""})
    start = await talk.receive_output(10)
    while (await talk.receive_output(10)).get("more_body"):
        pass
    return start["status"]


def ask(handler, path: str | list[str], key: str = "", method: str = "GET") -> list[int]:
    """Statuses of requests to ``handler`` (a list of paths runs concurrently)."""
    headers = [(b"host", b"testserver")] + ([(b"x-api-key", key.encode())] if key else [])
    paths = [path] if isinstance(path, str) else path

    async def send_all():
        return await asyncio.gather(*(request(handler, method, p, headers) for p in paths))

    return async_to_sync(send_all)()


def test_requests_reuse_the_few_request_threads_instead_of_starting_their_own():
    handler = RecordingHandler()
    for _ in range(30):
        assert ask(handler, "/api/health") == [200]
    seen = set(handler.threads_seen)
    assert len(handler.threads_seen) == 30 and len(seen) < 30
    assert len(seen) <= settings.REQUEST_THREADS
    assert all(name.startswith("request") for name in seen)


def test_more_concurrent_requests_than_threads_all_get_their_answer(keys):
    handler = RecordingHandler()
    paths = ["/api/jobs"] * (settings.REQUEST_THREADS * 2 + 1)
    answers = ask(handler, paths, key=keys["alice"])
    assert answers == [200] * len(paths)
    assert len(set(handler.threads_seen)) <= settings.REQUEST_THREADS


def test_a_request_gives_its_database_connection_back_when_it_is_done(keys, users):
    handler = DjangoHandler()
    assert ask(handler, "/api/jobs", key=keys["alice"]) == [200]
    # Every request thread has closed (or, on PostgreSQL, returned) its connection.
    still_open = [handler.threads.submit(lambda: connection.connection) for _ in range(20)]
    assert [f.result() for f in still_open] == [None] * 20


def test_a_refused_request_is_answered_and_changes_nothing(keys):
    handler = DjangoHandler()
    # No key and no session: refused, and nothing is queued.
    answers = ask(handler, ["/api/jobs", "/api/videos/1/download"], method="POST")
    assert answers == [403, 403]
    assert not Job.objects.exists()


def test_the_handler_serves_http_only():
    with pytest.raises(ValueError, match="HTTP only"):
        async_to_sync(DjangoHandler())({"type": "lifespan"}, None, None)
