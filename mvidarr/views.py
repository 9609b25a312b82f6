from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from mvidarr.forms import AdminSetupForm
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
