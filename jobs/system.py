"""The System page (staff): queue pause, workers, scheduled tasks."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jobs.models import DOWNLOADS, PausedQueue, ScheduledTask
from jobs.scheduler import TASKS
from jobs.stats import stats_for


def _context(request: HttpRequest) -> dict:
    return {
        "stats": stats_for(request.user),
        "paused": PausedQueue.is_paused(DOWNLOADS),
        "tasks": ScheduledTask.objects.all(),
    }


def _respond(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return render(request, "jobs/system.html#system-live", _context(request))
    return redirect("system")


@staff_member_required
def system(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/system.html", _context(request))


@staff_member_required
@require_POST
def run_task(request: HttpRequest, name: str) -> HttpResponse:
    if name not in TASKS:
        raise Http404("No such task")
    ScheduledTask.objects.update_or_create(
        name=name,
        defaults={"run_now": True},
        create_defaults={"run_now": True, "interval": TASKS[name].every()},
    )
    return _respond(request)


@staff_member_required
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    PausedQueue.pause(DOWNLOADS)
    return _respond(request)


@staff_member_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    PausedQueue.resume(DOWNLOADS)
    return _respond(request)
