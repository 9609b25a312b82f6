"""The Activity dashboard, a job's page, and the buttons on them.

Every action is a plain form POST that redirects back (``next`` when it is a
safe local URL); with htmx it answers with the fragment the button's
``hx-target`` names instead. The Activity lists are also redrawn by
``jobs.consumers.UiConsumer`` with :func:`activity_context`, which has no
request: the forms inside them rely on the CSRF header htmx sends.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobs import system
from jobs.family import COUNTED
from jobs.models import DOWNLOADS, Job, PausedQueue
from jobs.stats import queue_capacity, stats_for, waiting_reason

# Rows shown per list on the Activity page; the headings count them all.
LIST_LIMIT = 100
RECENT_LIMIT = 25
LIVE = "jobs/activity.html#live"


def attach_children_counts(jobs) -> None:
    """Give each parent job ``counts`` (children per status, total, done) in one query."""
    parents = {job.pk: job for job in jobs if job.is_parent}
    if not parents:
        return
    counts = {pk: dict.fromkeys(COUNTED, 0) for pk in parents}
    rows = (
        Job.objects.filter(parent_id__in=parents)
        .order_by()
        .values("parent_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["parent_id"]][row["status"]] = row["n"]
    for pk, job in parents.items():
        c = counts[pk]
        c["total"] = sum(c[status] for status in COUNTED)
        c["done"] = c["succeeded"] + c["failed"] + c["cancelled"]
        job.counts = c


def activity_context(user) -> dict:
    """Everything the live part of the Activity page shows, in a dozen queries
    however many jobs there are (the UI socket calls this on every change)."""
    jobs = Job.objects.for_user(user).select_related("owner", "parent")
    running = list(jobs.filter(status="running").order_by("started_at")[:LIST_LIMIT])
    queued = list(jobs.filter(status="queued").order_by("-priority", "created_at")[:LIST_LIMIT])
    recent = list(jobs.finished().order_by("-finished_at")[:RECENT_LIMIT])
    paused, capacity, busy = queue_capacity()
    for job in queued:
        job.reason = waiting_reason(job, paused, capacity, busy)
    attach_children_counts(running + queued + recent)
    stats = stats_for(user)
    return {
        "viewer": user,
        "stats": stats,
        "queues": sorted(stats["by_queue"].items()),
        "paused": DOWNLOADS in paused,
        "running": running,
        "queued": queued,
        "recent": recent,
        "list_limit": LIST_LIMIT,
    }


def _get_job_for_user(request: HttpRequest, pk) -> Job:
    return get_object_or_404(Job.objects.for_user(request.user), pk=pk)


def next_url(request: HttpRequest, default: str) -> str:
    """``next`` from the form when it is a local URL, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _back(request: HttpRequest, job: Job | None = None) -> HttpResponse:
    """Where an action on the Activity page or a job's page goes next."""
    if request.htmx:
        if request.htmx.target == "job-live" and job is not None:
            job.refresh_from_db()
            return render(request, "jobs/detail.html#job-live", {"job": job})
        return render(request, LIVE, activity_context(request.user))
    return redirect(next_url(request, reverse("activity")))


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
    return _back(request, job)


@login_required
@require_POST
def prioritize_job(request: HttpRequest, pk) -> HttpResponse:
    """The "Download now" button: to the front of its queue."""
    job = _get_job_for_user(request, pk)
    if not job.prioritize() and not request.htmx:
        messages.info(request, "That job is no longer waiting.")
    return _back(request, job)


@login_required
@require_POST
def retry_job(request: HttpRequest, pk) -> HttpResponse:
    """A new job doing the same work as a failed or cancelled one."""
    job = _get_job_for_user(request, pk)
    try:
        new = job.retry()
    except ValueError as e:
        if request.htmx:
            return HttpResponse(str(e), status=409)
        messages.error(request, str(e))
        return redirect(next_url(request, reverse("job-detail", args=[job.pk])))
    new_url = reverse("job-detail", args=[new.pk])
    if request.htmx:
        target = request.htmx.target or ""
        if target == "job-live":
            return HttpResponseClientRedirect(new_url)
        if target.startswith("history-"):
            return render(
                request,
                "jobs/history.html#history-row",
                {"job": job, "retried": new, "viewer": request.user},
            )
        return render(request, LIVE, activity_context(request.user))
    messages.success(
        request,
        format_html('Retrying “{}” as <a href="{}">a new job</a>.', job.label or job.kind, new_url),
    )
    return redirect(next_url(request, new_url))


def _queue_action(request: HttpRequest, view, action) -> HttpResponse:
    """Pause or resume from the Activity page (``next`` given), or as the System page does."""
    if not request.POST.get("next"):
        return view(request)
    action(DOWNLOADS)
    return _back(request)


@staff_member_required
@require_POST
def pause_queue(request: HttpRequest) -> HttpResponse:
    return _queue_action(request, system.pause, PausedQueue.pause)


@staff_member_required
@require_POST
def resume_queue(request: HttpRequest) -> HttpResponse:
    return _queue_action(request, system.resume, PausedQueue.resume)
