"""ASGI entry point: HTTP (Django, static files) and WebSockets (Channels)."""

from __future__ import annotations

import asyncio
import os

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.exception import response_for_exception

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvidarr.settings")
django_asgi_app = get_asgi_application()

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
