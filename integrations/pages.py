"""The Settings page (staff): the run-time options of every group (downloads,
notifications, Jellyfin, Plex, IMVDb), the notification targets, and the
"Send test" and "Test connection" buttons, which queue a job whose outcome
the page shows. An option set by the environment is shown read-only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations import mediaservers, notify, options, tasks
from jobs.models import Job
from jobs.views import back
from mvidarr import config
from mvidarr.forms import OptionsForm

GROUPS = ("downloads", "notifications", "jellyfin", "plex", "imvdb")
# The jobs of the page's buttons, one subject each (a second click while one
# is at work gets the same job).
CHECKS = {
    "notify": "integration:notify",
    "imvdb": "integration:imvdb",
    **{s: f"integration:{s}" for s in mediaservers.TITLES},
}


class UnechoedInput(forms.TextInput):
    """A text box that never shows back what was typed: it may hold a secret."""

    def format_value(self, value) -> None:
        return None


class NotifyUrlForm(forms.Form):
    url = forms.CharField(
        label="Apprise URL",
        max_length=2000,
        widget=UnechoedInput(
            attrs={"placeholder": "e.g. ntfy://ntfy.sh/my-topic", "autocomplete": "off"}
        ),
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            notify.check(url)
        except notify.BadUrl as e:
            raise ValidationError(str(e)) from None
        urls = config.get("NOTIFY_URLS")
        if url in urls:
            raise ValidationError("This URL is already in the list.")
        if len(urls) >= options.MAX_NOTIFY_URLS:
            raise ValidationError(f"At most {options.MAX_NOTIFY_URLS} URLs.")
        return url


def _page(
    request: HttpRequest,
    bound: OptionsForm | None = None,
    add_form: NotifyUrlForm | None = None,
    status: int = 200,
) -> HttpResponse:
    option_forms = {group: OptionsForm(group) for group in GROUPS}
    if bound is not None:
        option_forms[bound.group] = bound
    targets = config.OPTIONS["NOTIFY_URLS"]
    checks = {
        name: Job.objects.filter(subject=subject).order_by("-created_at").first()
        for name, subject in CHECKS.items()
    }
    context = {
        "forms": option_forms,
        "servers": [
            {"name": name, "title": title, "form": option_forms[name], "check": checks[name]}
            for name, title in mediaservers.TITLES.items()
        ],
        "notify_urls": [
            {"shown": notify.describe(url), "fingerprint": notify.fingerprint(url)}
            for url in config.get("NOTIFY_URLS")
        ],
        "notify_env": targets.env if targets.from_env else "",
        "add_form": add_form or NotifyUrlForm(),
        "checks": checks,
    }
    return render(request, "integrations/settings.html", context, status=status)


@staff_member_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The page; a POST saves one group's form (``section``)."""
    if request.method != "POST":
        return _page(request)
    group = request.POST.get("section")
    if group not in GROUPS:
        return HttpResponseBadRequest("Unknown section")
    form = OptionsForm(group, request.POST)
    if not form.is_valid():
        return _page(request, bound=form, status=422)
    changed = config.save(form.changes(), request.user)
    messages.success(request, "Saved." if changed else "Nothing changed.")
    return back(request, reverse("settings"))


def _editable_targets(request: HttpRequest) -> bool:
    if config.OPTIONS["NOTIFY_URLS"].from_env:
        messages.error(request, "MVIDARR_NOTIFY_URLS sets the notification URLs.")
        return False
    return True


@staff_member_required
@require_POST
def add_notify_url(request: HttpRequest) -> HttpResponse:
    if not _editable_targets(request):
        return _page(request, status=409)
    form = NotifyUrlForm(request.POST)
    if not form.is_valid():
        return _page(request, add_form=form, status=422)
    config.save(
        {"NOTIFY_URLS": [*config.get("NOTIFY_URLS"), form.cleaned_data["url"]]}, request.user
    )
    messages.success(request, "Notification URL added.")
    return back(request, reverse("settings"))


@staff_member_required
@require_POST
def remove_notify_url(request: HttpRequest) -> HttpResponse:
    if not _editable_targets(request):
        return _page(request, status=409)
    gone = request.POST.get("fingerprint", "")
    urls = config.get("NOTIFY_URLS")
    kept = [url for url in urls if notify.fingerprint(url) != gone]
    if len(kept) == len(urls):
        raise Http404("No such notification URL")
    config.save({"NOTIFY_URLS": kept}, request.user)
    messages.success(request, "Notification URL removed.")
    return back(request, reverse("settings"))


@staff_member_required
@require_POST
def send_test(request: HttpRequest) -> HttpResponse:
    if not config.get("NOTIFY_URLS"):
        messages.error(request, "Add a notification URL first.")
    else:
        user = request.user.get_username()
        tasks.send_later(
            "test",
            "MVidarr test notification",
            f"Notifications from MVidarr reach you. (Sent by {user} from the Settings page.)",
            owner=request.user,
            subject=CHECKS["notify"],
        )
    return back(request, reverse("settings"))


@staff_member_required
@require_POST
def test_server(request: HttpRequest, server: str) -> HttpResponse:
    if server not in mediaservers.TITLES:
        raise Http404("No such media server")
    Job.submit(
        tasks.CheckMediaServer.name,
        request.user,
        subject=CHECKS[server],
        params={"server": server},
        label=f"Test the {mediaservers.TITLES[server]} connection",
    )
    return back(request, reverse("settings"))


@staff_member_required
@require_POST
def test_imvdb(request: HttpRequest) -> HttpResponse:
    if not config.get("IMVDB_API_KEY"):
        messages.error(request, "Set an IMVDb API key first.")
    else:
        Job.submit(
            tasks.CheckImvdb.name,
            request.user,
            subject=CHECKS["imvdb"],
            label="Test the IMVDb API key",
        )
    return back(request, reverse("settings"))
