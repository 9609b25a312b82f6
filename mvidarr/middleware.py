from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import redirect

# Paths that work before the first account exists.
OPEN_PREFIXES = ("/setup/", "/static/", "/api/", "/favicon.ico")
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
