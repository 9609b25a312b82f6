from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST, require_safe

from jobs import pause
from jobs.models import Job
from jobs.views import next_url
from mvidarr.roles import permission_required
from videos.browse import BrowseForm, browse
from videos.forms import AddVideoForm
from videos.models import Artist, Video
from videos.tasks import DownloadVideo, start_bulk_download
from videos.thumbnails import start_regenerating

PAGE_SIZE = 50
# The most videos one "Download selected" takes (a page shows 50).
BULK_LIMIT = 500


def get_video_for_user(request: HttpRequest, pk: int) -> Video:
    """The video, if the request's user may see it, else 404 (pages and API)."""
    try:
        return Video.objects.get_for_user(request.user, pk)
    except Video.DoesNotExist:
        raise Http404 from None


def with_active_jobs(videos) -> list[Video]:
    """Attach each video's active job, whether that job is held by a pause
    (``job.held``) and whether an idle video's last download was cancelled
    (``download_cancelled``): a query or three for the whole page."""
    videos = list(videos)
    jobs = (
        Job.objects.active().filter(subject__in=[v.subject for v in videos]).order_by("created_at")
    )
    by_subject = {job.subject: job for job in jobs}
    for video in videos:
        video.job = by_subject.get(video.subject)
    pause.mark_held(by_subject.values())
    Video.note_cancelled([video for video in videos if video.job is None])
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
    page its state cell, elsewhere (the Library, an artist's page) its state
    and action cells. Never the whole row, so a ticked checkbox stays ticked."""
    try:
        video = Video.objects.get_for_user(user, int(subject.partition(":")[2]))
    except (ValueError, Video.DoesNotExist):
        return "" if page == "video" else _render_gone(subject, user)
    context = {"video": with_active_jobs([video])[0], "live": True, "perms": PermWrapper(user)}
    if page == "video":
        return render_to_string("videos/_state.html", context)
    return render_to_string("videos/_row.html#video-live", context)


def _render_gone(subject: str, user) -> str:
    """A deleted video's row: it goes, or, when the video stood in for a URL
    that turned out to be a playlist, says so and links to its job."""
    result = (
        Job.objects.for_user(user)
        .filter(subject=subject, kind="extract_video_info", status=Job.Status.SUCCEEDED)
        .values_list("result", flat=True)
        .order_by("-finished_at")
        .first()
    )
    playlist = (result or {}).get("playlist_job_id")
    context = {"pk": subject.partition(":")[2], "playlist": playlist, "result": result}
    return render_to_string("videos/_row.html#video-gone", context)


@login_required
@require_safe
def library(request: HttpRequest) -> HttpResponse:
    """The user's videos, searched, filtered and sorted (``videos.browse``),
    50 to a page, as a list or a grid of thumbnails."""
    form = BrowseForm(request.GET)
    filters = form.values()
    videos = browse(Video.objects.for_user(request.user), **filters)
    page = Paginator(videos, PAGE_SIZE).get_page(request.GET.get("page"))
    artist = None
    if filters["artist_id"]:
        artist = Artist.objects.for_user(request.user).filter(pk=filters["artist_id"]).first()
    return render(
        request,
        "videos/library.html",
        {
            "form": AddVideoForm(),
            "browse": form,
            "view": form.layout,
            "filtered": any(v for k, v in filters.items() if k not in ("sort", "reverse")),
            "artist": artist,
            "page": page,
            "videos": with_active_jobs(page.object_list),
            "status": filters["status"],
            "statuses": Video.Status.choices,
            "pause": pause.state(),
        },
    )


@permission_required("videos.add_video")
@require_POST
def add_video(request: HttpRequest) -> HttpResponse:
    """The add box. A URL already in the library is only pointed to; a new
    one becomes a video whose metadata job finds out what the URL is (a
    video, a playlist or feed, or nothing: ``Video.resolve``), so the
    request itself never waits for yt-dlp."""
    form = AddVideoForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, "videos/library.html#add-form", {"form": form}, status=422)
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect("library")
    data = form.cleaned_data
    video, created = Video.objects.add(request.user, data["url"], data["title"], data["artist"])
    if not created:
        if request.htmx:
            context = {"form": AddVideoForm(), "notice": already_there(video)}
            return render(request, "videos/library.html#add-form", context)
        messages.info(request, already_there(video))
        return redirect("library")
    video.resolve(request.user, download=data["download"])
    if request.htmx:
        context = {"form": AddVideoForm(), "video": with_active_jobs([video])[0]}
        return render(request, "videos/library.html#added", context)
    return redirect("library")


def already_there(video: Video) -> str:
    return format_html(
        'Already in your library: <a href="{}">{}</a>',
        reverse("video-page", args=[video.pk]),
        video.display_title,
    )


@permission_required("videos.change_video")
@require_POST
def download_video(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    video.request_download(request.user)
    return row_or_redirect(request, video)


@permission_required("videos.change_video")
@require_POST
def cancel_download(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    if job := video.active_job():
        job.cancel()
    return row_or_redirect(request, video)


def row_or_redirect(request: HttpRequest, video: Video) -> HttpResponse:
    if request.htmx:
        video.refresh_from_db()
        return render(request, "videos/_row.html", {"video": with_active_jobs([video])[0]})
    return redirect(next_url(request, reverse("library")))


@permission_required("videos.change_video")
@require_POST
def bulk_download(request: HttpRequest) -> HttpResponse:
    """The "Download selected" button: one parent job with a child download per video.

    Only videos the user may see count; ids of others' videos are ignored, and
    a selection with none of the user's videos at all is not found."""
    videos = selected_videos(request)
    if not videos:
        return bulk_message(request, "error", "Select at least one video first.")
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
        text = (
            "Nothing new to download: the selected videos are already queued, "
            "downloading or ignored."
        )
    return bulk_done(request, text, videos, reverse("activity"))


@permission_required("videos.change_video")
@require_POST
def bulk_thumbnails(request: HttpRequest) -> HttpResponse:
    """The "Regenerate thumbnails" button: one parent job with a child per
    video that has a picture to make them from."""
    videos = selected_videos(request)
    if not videos:
        return bulk_message(request, "error", "Select at least one video first.")
    parent = start_regenerating(request.user, videos)
    queued = parent.children_counts()["total"]
    if queued:
        text = format_html(
            'Making the thumbnails of {} video{}. <a href="{}">Follow the batch</a>',
            queued,
            "" if queued == 1 else "s",
            reverse("job-detail", args=[parent.pk]),
        )
    else:
        text = (
            "No thumbnails to make: the selected videos have no picture or file to start "
            "from, or theirs are being made already."
        )
    return bulk_done(request, text, videos, reverse("activity"))


def selected_videos(request: HttpRequest) -> list[Video]:
    """The videos ticked in the bulk form (``video`` ids, at most
    ``BULK_LIMIT``). Only the user's own count: ids of others' videos are
    ignored, and a selection with ids but none of the user's is not found."""
    ids = {
        int(v)
        for v in request.POST.getlist("video")[:BULK_LIMIT]
        if v.isascii() and v.isdigit() and len(v) < 19  # fits a 64-bit id column
    }
    videos = list(Video.objects.for_user(request.user).filter(pk__in=ids)) if ids else []
    if ids and not videos:
        raise Http404("No such videos")
    return videos


def bulk_done(request: HttpRequest, text: str, videos: list[Video], then: str) -> HttpResponse:
    """A bulk action's message; with htmx also the videos' rows, redrawn."""
    if request.htmx:
        videos = Video.objects.filter(pk__in=[v.pk for v in videos]).select_related("artist")
        context = {"level": "success", "text": text, "videos": with_active_jobs(videos)}
        return render(request, "videos/library.html#bulk-done", context)
    messages.success(request, text)
    return redirect(then)


def bulk_message(request: HttpRequest, level: str, text: str) -> HttpResponse:
    if request.htmx:
        return render(request, "videos/library.html#bulk-done", {"level": level, "text": text})
    getattr(messages, level)(request, text)
    return redirect(next_url(request, reverse("library")))
