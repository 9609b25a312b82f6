"""WebSocket handshake checks: API-key authentication and the Origin rule.

Browsers always send ``Origin``; as in Django's CSRF check, it must be the
site's own ``scheme://host:port`` (the handshake's ``Host``, itself one of
``ALLOWED_HOSTS``) or one of ``CSRF_TRUSTED_ORIGINS``, or a page on another
site -- or on another port of this host -- could ride the user's session
cookie. A handshake with no ``Origin`` comes from a script, which must then
bring an API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from django.utils.http import is_same_domain

from mvidarr.models import ApiKey


def api_key_from_headers(headers: dict[bytes, bytes]) -> str | None:
    if key := headers.get(b"x-api-key"):
        return key.decode("latin1").strip()
    auth = headers.get(b"authorization", b"").decode("latin1")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def own_origin(scope: Mapping, headers: Mapping[bytes, bytes]) -> str | None:
    """``scheme://host[:port]`` of the site the handshake was sent to, or None
    when its ``Host`` is not one of ``ALLOWED_HOSTS``."""
    host = headers.get(b"host", b"").decode("latin1").strip().lower()
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") == "wss"
    if proxy := getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        forwarded = headers.get(name, b"").decode("latin1").split(",")[0].strip()
        secure = forwarded == proxy[1]
    return f"{'https' if secure else 'http'}://{host}"


def origin_allowed(origin: str, scope: Mapping, headers: Mapping[bytes, bytes]) -> bool:
    """Django's CSRF origin rule, for a WebSocket handshake."""
    origin = origin.strip().lower()
    if origin == own_origin(scope, headers):
        return True
    trusted = [o.lower() for o in settings.CSRF_TRUSTED_ORIGINS]
    if origin in trusted:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parts.netloc, t.split("://", 1)[1].removeprefix("*"))
        for t in trusted
        if "*" in t and t.startswith(f"{parts.scheme}://")
    )


class OriginCheckMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:
            allowed = api_key_from_headers(headers) is not None
        else:
            allowed = origin_allowed(origin.decode("latin1"), scope, headers)
        if not allowed:
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def still_valid(scope: Mapping) -> bool:
    """Whether the credential a socket was opened with still holds: the API
    key exists and its owner is active, or the session still exists, belongs
    to the same active user and was made with their current password."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return False
    if key_id := scope.get("api_key_id"):
        return ApiKey.objects.filter(pk=key_id, user_id=user.pk, user__is_active=True).exists()
    session = scope.get("session")
    if session is None or not session.session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key).load()
    current = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    return (
        current is not None
        and str(data.get(SESSION_KEY)) == str(user.pk)
        and constant_time_compare(data.get(HASH_SESSION_KEY, ""), current.get_session_auth_hash())
    )


class ApiKeyAuthMiddleware:
    """Replaces the session user with the key's owner when a key is sent."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        raw = api_key_from_headers(dict(scope.get("headers", [])))
        if raw is not None:
            key = await database_sync_to_async(ApiKey.authenticate_key)(raw)
            if key is None:
                return await WebsocketDenier()(scope, receive, send)
            scope = {
                **scope,
                "user": key.user,
                "api_key_id": key.pk,
                "api_key_read_only": key.read_only,
            }
        return await self.app(scope, receive, send)
