from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictInt

from jobs import kinds, pause
from jobs.models import Job
from jobs.stats import stats_for

router = Router(tags=["jobs"])


class JobIn(Schema):
    kind: Literal[tuple(kinds.startable())]  # the kinds registered when the URLs load
    url: str = ""
    title: str = Field("", max_length=300)
    artist: str = Field("", max_length=200)
    # A quality profile's name or id, for the kinds that download.
    profile: StrictInt | Annotated[str, Field(max_length=100)] | None = None


class ProgressOut(Schema):
    percent: float | None
    downloaded_bytes: int | None
    total_bytes: int | None
    speed: float | None
    eta: int | None
    stage: str
    detail: str = ""


class JobOut(Schema):
    id: UUID
    kind: str
    queue: str
    status: str
    subject: str
    label: str
    progress: ProgressOut
    error: str | None = Field(description="What went wrong, in plain words.")
    error_code: str | None
    error_detail: str | None = Field(
        None, description="The raw output behind the error (yt-dlp's or ffmpeg's last lines)."
    )
    result: dict[str, Any] | None
    attempts: int
    parent_id: UUID | None
    children: dict[str, int] | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LogOut(Schema):
    ts: datetime
    level: str
    message: str


def get_job_for_user(request: HttpRequest, job_id: UUID) -> Job:
    return get_object_or_404(Job.objects.for_user(request.auth), pk=job_id)


@router.post("/jobs", response={202: JobOut})
def create_job(request: HttpRequest, data: JobIn):
    """Start a job. ``download_video`` and ``extract_video_info`` add the URL
    to your library if needed; ``download_playlist`` adds each video of a
    playlist, feed or channel; ``ping`` needs no URL and does nothing: it
    checks the pipeline."""
    try:
        job = kinds.get(data.kind).start(request.auth, data.dict())
    except kinds.Refused as e:
        raise HttpError(400, str(e)) from None
    return Status(202, job.to_dict())


@router.get("/jobs", response=list[JobOut])
def list_jobs(request: HttpRequest, status: str = "", kind: str = "", limit: int = 100):
    """Jobs, newest first."""
    jobs = Job.objects.for_user(request.auth)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return [job.to_dict() for job in jobs.order_by("-created_at")[: max(1, min(limit, 500))]]


@router.get("/jobs/{uuid:job_id}", response=JobOut)
def get_job(request: HttpRequest, job_id: UUID):
    return get_job_for_user(request, job_id).to_dict()


@router.get("/jobs/{uuid:job_id}/log", response=list[LogOut])
def job_log(request: HttpRequest, job_id: UUID):
    return [entry.to_dict() for entry in get_job_for_user(request, job_id).logs.all()[:5000]]


@router.post("/jobs/{uuid:job_id}/cancel", response={202: JobOut})
def cancel_job(request: HttpRequest, job_id: UUID):
    """Queued jobs are cancelled at once; running ones stop within 2 s."""
    job = get_job_for_user(request, job_id)
    if not job.cancel() and job.status != Job.Status.CANCELLED:
        raise HttpError(409, f"The job has already {job.status}.")
    job.refresh_from_db()
    return Status(202, job.to_dict())


@router.post("/jobs/{uuid:job_id}/retry", response={202: JobOut})
def retry_job(request: HttpRequest, job_id: UUID):
    """A new job doing the same work as a failed or cancelled one."""
    try:
        new = get_job_for_user(request, job_id).retry()
    except ValueError as e:
        raise HttpError(409, str(e)) from None
    return Status(202, new.to_dict())


class QueueOut(Schema):
    paused: bool
    paused_at: datetime | None = None
    reason: str = ""


@router.get("/queue", response=QueueOut, tags=["queue"])
def queue_state(request: HttpRequest):
    """Whether downloads are paused."""
    return pause.state()


@router.post("/queue/pause", response=QueueOut, tags=["queue"])
def pause_queue(request: HttpRequest):
    """Hold queued downloads (staff only); running ones finish."""
    pause.pause()
    return pause.state()


@router.post("/queue/resume", response=QueueOut, tags=["queue"])
def resume_queue(request: HttpRequest):
    pause.resume()
    return pause.state()


@router.get("/jobs/stats")
def job_stats(request: HttpRequest) -> dict:
    """Counts by status and queue, workers alive, throughput and recent failures."""
    return stats_for(request.auth)
