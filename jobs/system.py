"""The System page (staff): pausing downloads, workers, scheduled tasks."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jobs import pause
from jobs.models import ScheduledTask
from jobs.scheduler import PERIODIC
from jobs.stats import stats_for
from jobs.views import back


@staff_member_required
def system(request: HttpRequest) -> HttpResponse:
    context = {
        "stats": stats_for(request.user),
        "pause": pause.state(),
        "tasks": ScheduledTask.objects.all(),
    }
    return render(request, "jobs/system.html", context)


@staff_member_required
@require_POST
def run_task(request: HttpRequest, name: str) -> HttpResponse:
    if name not in PERIODIC:
        raise Http404("No such task")
    ScheduledTask.objects.update_or_create(
        name=name,
        defaults={"run_now": True},
        create_defaults={"run_now": True, "interval": PERIODIC[name].every()},
    )
    return back(request, reverse("system"))


@staff_member_required
@require_POST
def pause_downloads(request: HttpRequest) -> HttpResponse:
    pause.pause()
    return back(request, reverse("system"))


@staff_member_required
@require_POST
def resume_downloads(request: HttpRequest) -> HttpResponse:
    pause.resume()
    return back(request, reverse("system"))
