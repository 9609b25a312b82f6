"""The Activity dashboard, a job's page, and the buttons on them.

Every action is a plain form POST that redirects back to the page it came
from (``next`` when it is a safe local URL). With htmx the same redirect is
followed and the form's ``hx-select`` picks its part of that page, so the
server renders pages, never a fragment chosen by who asked. The Activity
lists are also redrawn by ``jobs.consumers.UiConsumer`` with
:func:`activity_context`, which has no request: the forms inside them rely on
the CSRF header htmx sends.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from jobs import kinds
from jobs.models import ACTIVE, Job, Status
from jobs.stats import queue_capacity, stats_for, waiting_reason
from mvidarr.roles import permission_required

# Rows shown per list on the Activity page; the headings count them all.
LIST_LIMIT = 100
RECENT_LIMIT = 25


def attach_children_counts(jobs) -> None:
    """Give each parent job ``counts`` (children per status, total, done) in one query."""
    parents = {job.pk: job for job in jobs if job.is_parent}
    for pk, counts in Job.objects.counts_by_parent(parents).items():
        parents[pk].counts = counts


def activity_context(user, everything: bool = False) -> dict:
    """Everything the live part of the Activity page shows, in a dozen queries
    however many jobs there are (the UI socket calls this on every change).

    1. Jobs of quiet kinds (a video's metadata look-up) are left out of the
       lists and figures unless ``everything``: they would crowd out the
       downloads, and each video's page lists them anyway.
    2. A waiting parent none of whose children runs (all queued, e.g. held by
       a pause) is not running: it is listed and counted with the queued jobs,
       saying why its children wait (``hold_idle_parents``).
    """
    hidden = () if everything else kinds.quiet_kinds()
    jobs = Job.objects.for_user(user).select_related("owner", "parent").exclude(kind__in=hidden)
    running = list(
        jobs.filter(status=Status.RUNNING).with_idle().order_by("started_at")[:LIST_LIMIT]
    )
    queued = list(
        jobs.filter(status=Status.QUEUED).order_by("-priority", "created_at")[:LIST_LIMIT]
    )
    recent = list(jobs.finished().order_by("-finished_at")[:RECENT_LIMIT])
    paused, capacity, busy = queue_capacity()
    for job in queued:
        job.reason = waiting_reason(job, paused, capacity, busy)
    stats = stats_for(user, hidden)
    idle = hold_idle_parents(jobs, running, paused, stats)
    running = [job for job in running if not job.idle]
    queued = (idle + queued)[:LIST_LIMIT]
    attach_children_counts(running + queued + recent)
    return {
        "viewer": user,
        "perms": PermWrapper(user),  # also when the UI socket renders it
        "stats": stats,
        "queues": sorted(stats["by_queue"].items()),
        "paused": any(q in paused for q in kinds.pausable_queues()),
        "pause_reason": next((paused[q] for q in kinds.pausable_queues() if q in paused), ""),
        "running": running,
        "queued": queued,
        "recent": recent,
        "list_limit": LIST_LIMIT,
        "everything": everything,
        "back": reverse("activity") + ("?jobs=all" if everything else ""),
    }


def hold_idle_parents(jobs, running: list[Job], paused: dict[str, str], stats: dict) -> list[Job]:
    """The idle parents among ``running`` (annotated ``with_idle``), each with
    the ``reason`` its children wait ("paused" when a pause holds them).
    ``stats`` is changed to count every idle parent of ``jobs`` as queued."""
    idle = [job for job in running if job.idle]
    held = set()
    if idle and paused:
        held = set(
            Job.objects.filter(parent__in=idle, status=Status.QUEUED, queue__in=paused)
            .values_list("parent_id", flat=True)
            .distinct()
        )
    for parent in idle:
        parent.reason = "paused" if parent.pk in held else "waiting for its jobs to start"
    if len(running) < LIST_LIMIT:  # every running job is in the list: so is every idle one
        by_queue = Counter(parent.queue for parent in idle)
    else:
        rows = jobs.idle_parents().order_by().values_list("queue").annotate(Count("pk"))
        by_queue = Counter(dict(rows))
    for queue, n in by_queue.items():
        per_queue = stats["by_queue"].setdefault(queue, dict.fromkeys(ACTIVE, 0))
        for counts in (stats["by_status"], per_queue):
            counts[Status.RUNNING] = max(0, counts[Status.RUNNING] - n)
            counts[Status.QUEUED] += n
    return idle


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


def back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the action came from."""
    return redirect(next_url(request, default))


@login_required
@require_safe
def activity(request: HttpRequest) -> HttpResponse:
    everything = request.GET.get("jobs") == "all"
    return render(request, "jobs/activity.html", activity_context(request.user, everything))


@login_required
@require_safe
def job_detail(request: HttpRequest, pk) -> HttpResponse:
    job = _get_job_for_user(request, pk)
    return render(request, "jobs/detail.html", {"job": job, "logs": job.logs.all()[:500]})


@permission_required("jobs.change_job")
@require_POST
def cancel_job(request: HttpRequest, pk) -> HttpResponse:
    job = _get_job_for_user(request, pk)
    job.cancel()
    return back(request, reverse("activity"))


@permission_required("jobs.change_job")
@require_POST
def prioritize_job(request: HttpRequest, pk) -> HttpResponse:
    """The "Download now" button: to the front of its queue."""
    job = _get_job_for_user(request, pk)
    if not job.prioritize():
        messages.info(request, "That job is no longer waiting.")
    return back(request, reverse("activity"))


@permission_required("jobs.add_job")
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
        return back(request, reverse("job-detail", args=[job.pk]))
    new_url = reverse("job-detail", args=[new.pk])
    messages.success(
        request,
        format_html('Retrying “{}” as <a href="{}">a new job</a>.', job.label or job.kind, new_url),
    )
    return back(request, new_url)
