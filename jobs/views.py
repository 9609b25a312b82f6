from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from jobs.models import Job


def _get_job_for_user(request: HttpRequest, pk) -> Job:
    return get_object_or_404(Job.objects.for_user(request.user), pk=pk)


def activity_context(user) -> dict:
    jobs = Job.objects.for_user(user).select_related("owner")
    return {
        "viewer": user,
        "running": jobs.filter(status="running").order_by("started_at")[:100],
        "queued": jobs.filter(status="queued").order_by("-priority", "created_at")[:100],
        "recent": jobs.finished().order_by("-finished_at")[:25],
    }


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/activity.html", activity_context(request.user))


@login_required
def job_detail(request: HttpRequest, pk) -> HttpResponse:
    job = _get_job_for_user(request, pk)
    return render(request, "jobs/detail.html", {"job": job, "logs": job.logs.all()[:500]})


@login_required
@require_POST
def cancel_job(request: HttpRequest, pk) -> HttpResponse:
    job = _get_job_for_user(request, pk)
    job.cancel()
    if request.htmx:
        return render(request, "jobs/activity.html#live", activity_context(request.user))
    return redirect("activity")
