"""WebSocket handshake checks: API-key authentication and the Origin rule.

Browsers always send ``Origin``; it must name one of ``ALLOWED_HOSTS``, or a
page on another site could ride the user's session cookie. A handshake with
no ``Origin`` comes from a script, which must then bring an API key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

from mvidarr.models import ApiKey


def api_key_from_headers(headers: dict[bytes, bytes]) -> str | None:
    if key := headers.get(b"x-api-key"):
        return key.decode("latin1").strip()
    auth = headers.get(b"authorization", b"").decode("latin1")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


class OriginCheckMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:
            allowed = api_key_from_headers(headers) is not None
        else:
            host = urlsplit(origin.decode("latin1")).hostname or ""
            allowed = validate_host(host, settings.ALLOWED_HOSTS)
        if not allowed:
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


class ApiKeyAuthMiddleware:
    """Replaces the session user with the key's owner when a key is sent."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        raw = api_key_from_headers(dict(scope.get("headers", [])))
        if raw is not None:
            user = await database_sync_to_async(ApiKey.authenticate)(raw)
            if user is None:
                return await WebsocketDenier()(scope, receive, send)
            scope = {**scope, "user": user}
        return await self.app(scope, receive, send)
