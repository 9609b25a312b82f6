"""The API keys page (``/settings/keys/``): every user lists, creates and
revokes their own keys (staff too: the admin lists everyone's).

A new key is shown once, in the answer to the form that made it; only its
digest is kept. Revoking asks first (``GET …/revoke/`` is the confirm page)
and closes the sockets opened with the key at once (``ApiKey.revoke``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from mvidarr.forms import ApiKeyForm
from mvidarr.models import MAX_KEYS_PER_USER, ApiKey, KeyLimit


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def keys_page(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = raw = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, raw = ApiKey.issue(
                request.user, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]
            )
        except KeyLimit as e:
            form.add_error(None, str(e))
        else:
            form = ApiKeyForm()
    keys = ApiKey.objects.filter(user=request.user).order_by("-created_at", "-pk")
    context = {
        "form": form,
        "keys": keys,
        "new_key": new_key,
        "raw": raw,
        "max_keys": MAX_KEYS_PER_USER,
    }
    status = 400 if request.method == "POST" and raw is None else 200
    return render(request, "mvidarr/keys.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def revoke_key(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm page. POST: revoke the key."""
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    if request.method != "POST":
        return render(request, "mvidarr/revoke_key.html", {"key": key})
    key.revoke()
    messages.success(request, f"Key “{key.name or key.prefix}” revoked.")
    return redirect("api-keys")
