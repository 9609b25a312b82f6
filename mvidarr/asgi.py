"""ASGI entry point: HTTP (Django, static files) and WebSockets (Channels)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import response_for_exception


class DjangoHandler(ASGIHandler):
    """Django's ASGI handler, with each request run in one step on a pool of
    request threads.

    Django runs its middleware in async mode under ASGI. Ours are sync, and
    every ``MiddlewareMixin`` hook runs through ``sync_to_async``, so one
    request crossed between the event loop and a thread about eight times,
    and each request started a thread of its own (``ThreadSensitiveContext``).
    Here:

    1. The middleware chain and the view are built sync (``load_middleware``)
       and run as one call on ``REQUEST_THREADS`` long-lived threads, the way
       a threaded WSGI server runs them.
    2. Channels' ``database_sync_to_async`` closes the thread's stale
       connections before and after the call, as Django's request signals do
       for its own threads (PostgreSQL: the connection goes back to the pool).
    3. Reading the body, sending the response (streamed bodies included) and
       noticing a client that went away stay Django's, on the event loop.

    Measured in bench/sequential.py: server CPU per ``/api/health`` about
    −60 %, per submit about −20 % (docs/benchmarks.md).
    """

    def __init__(self):
        super().__init__()
        self.threads = ThreadPoolExecutor(settings.REQUEST_THREADS, thread_name_prefix="request")

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def get_response_async(self, request):
        respond = database_sync_to_async(
            self.get_response, thread_sensitive=False, executor=self.threads
        )
        return await respond(request)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvidarr.settings")
django.setup(set_prefix=False)
django_asgi_app = DjangoHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from jobs import publisher  # noqa: E402
from jobs.routing import websocket_urlpatterns  # noqa: E402
from mvidarr import bodylimit  # noqa: E402
from mvidarr.wsauth import ApiKeyAuthMiddleware, OriginCheckMiddleware  # noqa: E402


class StaticFilesHandler(ASGIStaticFilesHandler):
    """Static files, where a path trick (``/static/..%2f..%2f``) is a bad
    request (400), not a server error: Django's handler only converts 404s."""

    async def get_response_async(self, request):
        try:
            return await super().get_response_async(request)
        except SuspiciousOperation as e:
            return await sync_to_async(response_for_exception, thread_sensitive=False)(request, e)


def bind_publisher(app):
    """Give the job publisher this server's event loop (see jobs.publisher)."""

    async def wrapper(scope, receive, send):
        publisher.get().bind_loop(asyncio.get_running_loop())
        return await app(scope, receive, send)

    return wrapper


# Oversized bodies are refused in daphne's HTTP layer, before they are read.
bodylimit.install()

application = bind_publisher(
    ProtocolTypeRouter(
        {
            "http": StaticFilesHandler(django_asgi_app),
            "websocket": OriginCheckMiddleware(
                AuthMiddlewareStack(ApiKeyAuthMiddleware(URLRouter(websocket_urlpatterns)))
            ),
        }
    )
)
