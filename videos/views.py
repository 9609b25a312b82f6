from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from jobs import pause
from jobs.models import Job
from jobs.views import next_url
from videos.forms import AddVideoForm
from videos.models import Video
from videos.tasks import DownloadVideo, start_bulk_download

# The most videos one "Download selected" takes (a page shows 50).
BULK_LIMIT = 500


def get_video_for_user(request: HttpRequest, pk: int) -> Video:
    return get_object_or_404(Video.objects.for_user(request.user), pk=pk)


def with_active_jobs(videos) -> list[Video]:
    """Attach each video's active job (one query for the whole page)."""
    videos = list(videos)
    jobs = (
        Job.objects.active().filter(subject__in=[v.subject for v in videos]).order_by("created_at")
    )
    by_subject = {job.subject: job for job in jobs}
    for video in videos:
        video.job = by_subject.get(video.subject)
    return attach_last_failures(videos)


def attach_last_failures(videos: list[Video]) -> list[Video]:
    """Give each failed video ``last_failure``: the failed download whose
    error it shows, for the raw output under "Details" (one query, only when
    a video failed)."""
    failed = {video.subject: video for video in videos if video.status == Video.Status.FAILED}
    for video in videos:
        video.last_failure = None
    if failed:
        jobs = Job.objects.filter(
            subject__in=failed, kind=DownloadVideo.name, status=Job.Status.FAILED
        ).order_by("finished_at")
        for job in jobs.only("subject", "error_detail"):
            failed[job.subject].last_failure = job
    return videos


def render_row(subject: str, user, page: str) -> str:
    """The live part of ``video:<id>`` for the UI socket: on the video's own
    page its state cell, elsewhere (the Library) its state and action cells.
    Never the whole row, so a ticked checkbox stays ticked."""
    pk = subject.partition(":")[2]
    video = Video.objects.for_user(user).filter(pk=pk).first() if pk.isdigit() else None
    if video is None:
        return ""
    context = {"video": with_active_jobs([video])[0], "live": True}
    if page == "video":
        return render_to_string("videos/_state.html", context)
    return render_to_string("videos/library.html#video-live", context)


@login_required
def library(request: HttpRequest) -> HttpResponse:
    videos = Video.objects.for_user(request.user)
    status = request.GET.get("status", "")
    if status in Video.Status.values:
        videos = videos.filter(status=status)
    page = Paginator(videos, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "videos/library.html",
        {
            "form": AddVideoForm(),
            "page": page,
            "videos": with_active_jobs(page.object_list),
            "status": status,
            "statuses": Video.Status.choices,
            "pause": pause.state(),
        },
    )


@login_required
@require_POST
def add_video(request: HttpRequest) -> HttpResponse:
    form = AddVideoForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, "videos/library.html#add-form", {"form": form}, status=422)
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect("library")
    data = form.cleaned_data
    video, created = Video.objects.get_or_create(
        owner=request.user,
        url=data["url"],
        defaults={"artist": data["artist"], "title": data["title"]},
    )
    if created:
        video.request_info(request.user)
    if data["download"] and video.status != Video.Status.DOWNLOADED:
        video.request_download(request.user)
    if request.htmx:
        video.refresh_from_db()  # request_download() changed the status in the database
        context = {
            "form": AddVideoForm(),
            "video": with_active_jobs([video])[0],
            "created": created,
        }
        return render(request, "videos/library.html#added", context)
    return redirect("library")


@login_required
@require_POST
def download_video(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    video.request_download(request.user)
    return _row_or_redirect(request, video)


@login_required
@require_POST
def cancel_download(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    if job := video.active_job():
        job.cancel()
    return _row_or_redirect(request, video)


def _row_or_redirect(request: HttpRequest, video: Video) -> HttpResponse:
    if request.htmx:
        video.refresh_from_db()
        return render(
            request, "videos/library.html#video-row", {"video": with_active_jobs([video])[0]}
        )
    return redirect(next_url(request, reverse("library")))


@login_required
@require_POST
def bulk_download(request: HttpRequest) -> HttpResponse:
    """The "Download selected" button: one parent job with a child download per video.

    Only videos the user may see count; ids of others' videos are ignored, and
    a selection with none of the user's videos at all is not found."""
    ids = {
        int(v)
        for v in request.POST.getlist("video")[:BULK_LIMIT]
        if v.isascii() and v.isdigit() and len(v) < 19  # fits a 64-bit id column
    }
    if not ids:
        return _bulk_message(request, "error", "Select at least one video first.")
    videos = list(Video.objects.for_user(request.user).filter(pk__in=ids))
    if not videos:
        raise Http404("No such videos")
    parent = start_bulk_download(request.user, videos)
    queued = parent.children_counts()["total"]
    url = reverse("job-detail", args=[parent.pk])
    if queued:
        text = format_html(
            'Queued {} download{}. <a href="{}">Follow the batch</a>',
            queued,
            "" if queued == 1 else "s",
            url,
        )
    else:
        text = "Nothing new to download: the selected videos are already queued or downloading."
    if request.htmx:
        videos = with_active_jobs(Video.objects.filter(pk__in=[v.pk for v in videos]))
        context = {"level": "success", "text": text, "videos": videos}
        return render(request, "videos/library.html#bulk-done", context)
    messages.success(request, text)
    return redirect("activity")


def _bulk_message(request: HttpRequest, level: str, text: str) -> HttpResponse:
    if request.htmx:
        return render(request, "videos/library.html#bulk-done", {"level": level, "text": text})
    getattr(messages, level)(request, text)
    return redirect(next_url(request, reverse("library")))
