from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.shortcuts import redirect

API_PREFIX = "/api/"
# Paths that work before the first account exists.
OPEN_PREFIXES = ("/setup/", "/static/", API_PREFIX, "/favicon.ico", "/metrics")
_has_users = False


def first_run_setup(get_response):
    """Until an account exists, every page leads to the admin-account form:
    there is no default password anywhere."""

    def middleware(request):
        global _has_users
        if not _has_users:
            _has_users = get_user_model().objects.exists()
            if not _has_users and not request.path.startswith(OPEN_PREFIXES):
                return redirect("setup")
        return get_response(request)

    return middleware


# Scripts only from our own origin: no inline scripts or handlers, no eval, no
# plugins, no <base> tricks, no framing. Styles and images are left alone
# (Pico and htmx use inline styles and data: images).
CONTENT_SECURITY_POLICY = (
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def content_security_policy(get_response):
    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    return middleware


def api_method_not_allowed(get_response):
    """django-ninja answers a method that a path of the API does not take
    with a plain-text 405; the API's errors are JSON ``{"detail"}``, with
    the ``Allow`` header kept."""

    def middleware(request):
        response = get_response(request)
        if response.status_code == 405 and request.path.startswith(API_PREFIX):
            allowed = response.get("Allow", "")
            detail = f"Method {request.method} not allowed here; allowed: {allowed or 'none'}."
            response = JsonResponse({"detail": detail}, status=405)
            response["Allow"] = allowed
        return response

    return middleware
