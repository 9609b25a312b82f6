"""The JSON API (``/api/``, OpenAPI docs at ``/api/docs``)."""

from __future__ import annotations

import dramatiq
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja import security as ninja_security
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer

from jobs.api import router as jobs_router
from mvidarr import roles
from mvidarr.models import READ_ONLY_KEY, ApiKey
from sources.api import router as sources_router
from videos.api import router as videos_router
from videos.artists_api import router as artists_router
from videos.profiles_api import router as profiles_router


class ApiKeyAuth(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        return _login(request, key)


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return _login(request, token)


class SessionAuth(ninja_security.SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is not None:
            check_access(request, user)
        return user


def _login(request: HttpRequest, key: str | None):
    found = ApiKey.authenticate_key(key) if key else None
    if found is None:
        return None
    request.user = found.user
    check_access(request, found.user, found)
    return found.user


def check_access(request: HttpRequest, user, key: ApiKey | None = None) -> None:
    """The one check every API call passes once its caller is known: an
    unsafe method needs a key with the ``control`` scope and the user's
    permission for it (``roles.api_refusal``), else 403."""
    if request.method in roles.SAFE_METHODS:
        return
    if key is not None and key.read_only:
        raise HttpError(403, READ_ONLY_KEY)
    if refusal := roles.api_refusal(user, request.method, request.resolver_match.route):
        raise HttpError(403, refusal)


api = NinjaAPI(
    title="MVidarr API",
    version="1",
    auth=[ApiKeyAuth(), BearerAuth(), SessionAuth()],
    urls_namespace="api",
    docs_decorator=login_required,
)
api.add_router("/", videos_router)
api.add_router("/", profiles_router)
api.add_router("/", artists_router)
api.add_router("/", sources_router)
api.add_router("/", jobs_router)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": "Request body too large."}, status=413)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Authentication required: send X-Api-Key, a Bearer token, or log in."
    return api.create_response(request, {"detail": detail}, status=401)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    def where(error: dict) -> str:
        return ".".join(str(p) for p in error.get("loc", ())[1:]) or "body"

    detail = "; ".join(f"{where(e)}: {e.get('msg', 'invalid')}" for e in exc.errors)
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=422)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict:
    """Liveness and dependencies. No authentication; reveals no secrets."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "error"
    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)
    try:
        if client is not None:
            client.ping()
        checks["broker"] = "ok"
    except Exception:
        checks["broker"] = "error"
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    return {"status": status, "checks": checks}
