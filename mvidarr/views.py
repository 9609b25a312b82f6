from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views import defaults

from mvidarr.forms import AdminSetupForm
from mvidarr.middleware import API_PREFIX
from mvidarr.models import SetupLock

FAVICON = "mvidarr/favicon.svg"


def setup(request: HttpRequest) -> HttpResponse:
    """First run: create the admin account. Gone once any account exists."""
    User = get_user_model()
    if User.objects.exists():
        return redirect("library")
    form = AdminSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.is_staff = user.is_superuser = True
        if not SetupLock.create_first_admin(user):
            return redirect("login")  # someone else finished setup first
        login(request, user, backend=settings.MODEL_BACKEND)
        return redirect("library")
    return render(request, "mvidarr/setup.html", {"form": form})


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for where a page names no icon
    (the admin, the API docs): the SVG icon every page of ours links."""
    return redirect(static(FAVICON))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 (``handler404``): JSON ``{"detail"}`` under ``/api/``, as
    the API answers every error, else the site's own page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 (``handler500``): JSON under ``/api/``, else Django's own
    plain page (it needs no template, so it cannot fail in turn)."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error; the server's log says more."}, status=500)
    return defaults.server_error(request)
