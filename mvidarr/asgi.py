"""ASGI entry point: HTTP (Django, static files) and WebSockets (Channels)."""

from __future__ import annotations

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvidarr.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from jobs import publisher  # noqa: E402
from jobs.routing import websocket_urlpatterns  # noqa: E402
from mvidarr import bodylimit  # noqa: E402
from mvidarr.wsauth import ApiKeyAuthMiddleware, OriginCheckMiddleware  # noqa: E402


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
            "http": ASGIStaticFilesHandler(django_asgi_app),
            "websocket": OriginCheckMiddleware(
                AuthMiddlewareStack(ApiKeyAuthMiddleware(URLRouter(websocket_urlpatterns)))
            ),
        }
    )
)
