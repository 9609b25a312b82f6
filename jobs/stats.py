"""Figures for the dashboard and ``GET /api/jobs/stats``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from jobs.models import ACTIVE, ALL, Job, PausedQueue, Status, WorkerBeat


def stats_for(user, hidden_kinds: Iterable[str] = ()) -> dict[str, Any]:
    """The user's figures; ``hidden_kinds`` are left out of them (the Activity
    page's quiet kinds)."""
    jobs = Job.objects.for_user(user)
    if hidden_kinds:
        jobs = jobs.exclude(kind__in=hidden_kinds)
    now = timezone.now()
    by_status = dict.fromkeys(ALL, 0)
    by_queue: dict[str, dict[str, int]] = {}
    for row in jobs.values("queue", "status").annotate(n=Count("pk")):
        by_status[row["status"]] += row["n"]
        if row["status"] in ACTIVE:
            by_queue.setdefault(row["queue"], dict.fromkeys(ACTIVE, 0))[row["status"]] = row["n"]
    workers = [
        {"name": w.name, "queues": w.queues, "started_at": w.started_at, "seen_at": w.seen_at}
        for w in WorkerBeat.alive().order_by("name")
    ]
    if not user.is_staff:  # host:pid of the workers is for the operator only
        workers = [{k: v for k, v in w.items() if k != "name"} for w in workers]
    return {
        "by_status": by_status,
        "by_queue": by_queue,
        "workers": workers,
        "throughput": {
            "succeeded_last_hour": jobs.filter(
                status=Status.SUCCEEDED, finished_at__gte=now - timedelta(hours=1)
            ).count()
        },
        "failed_last_24h": jobs.filter(
            status=Status.FAILED, finished_at__gte=now - timedelta(hours=24)
        ).count(),
        "paused_queues": list(PausedQueue.objects.values_list("queue", flat=True)),
    }


def waiting_reason(
    job: Job, paused: dict[str, str], capacity: dict[str, int], running: dict[str, int]
) -> str:
    """Why a queued job is not running yet, in words."""
    if job.queue in paused:
        return "paused"
    if job.retry_at and job.retry_at > timezone.now():
        return f"retry at {timezone.localtime(job.retry_at):%H:%M:%S}"
    if not capacity.get(job.queue):
        return "no worker alive"
    if running.get(job.queue, 0) >= capacity[job.queue]:
        return "waiting for a free slot"
    return "starting"


def queue_capacity() -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    """Paused queues (with why), worker slots per queue among live workers, and
    running jobs per queue."""
    capacity: dict[str, int] = {}
    for beat in WorkerBeat.alive():
        for queue, threads in beat.queues.items():
            capacity[queue] = capacity.get(queue, 0) + threads
    running = dict(
        Job.objects.filter(status=Status.RUNNING).values_list("queue").annotate(n=Count("pk"))
    )
    return dict(PausedQueue.objects.values_list("queue", "reason")), capacity, running
