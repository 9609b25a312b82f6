"""The video page, ``/videos/<id>/``: what the library knows of one video,
a player for its file, its jobs and its buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from jobs.models import Job
from jobs.views import next_url
from mvidarr.roles import permission_required
from videos.editing import EDITABLE, edit_video, edit_videos
from videos.forms import BulkEditForm, EditVideoForm
from videos.views import (
    bulk_done,
    bulk_message,
    get_video_for_user,
    selected_videos,
    with_active_jobs,
)

# Jobs listed on the page, newest first (History has them all).
JOB_LIMIT = 50


@login_required
@require_safe
def video_page(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_video_for_user(request, pk)
    jobs = list(
        Job.objects.for_user(request.user)
        .filter(subject=video.subject)
        .order_by("-created_at")[:JOB_LIMIT]
    )
    with_active_jobs([video])
    context = {
        "video": video,
        "jobs": jobs,
        "playable": video.library_file() is not None,
        "viewer": request.user,
    }
    return render(request, "videos/video.html", context)


@permission_required("videos.change_video")
def edit_video_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The metadata form; saving renames the files by a job (see ``videos.editing``)."""
    video = get_video_for_user(request, pk)
    initial = {field: getattr(video, field) for field in EDITABLE}
    initial["artist"] = video.artist_name
    form = EditVideoForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "videos/edit.html", {"video": video, "form": form}, status=422)
        job = edit_video(video, form.cleaned_data, request.user)
        messages.success(request, "Saved; renaming its files." if job else "Saved.")
        return redirect("video-page", pk=video.pk)
    return render(request, "videos/edit.html", {"video": video, "form": form})


@permission_required("videos.change_video")
@require_POST
def bulk_edit(request: HttpRequest) -> HttpResponse:
    """The bulk form's "Edit selected…": first the form (with htmx in the
    page's message area, else as a page), then, sent with ``confirm``, the
    edit, and one job renaming the files that must follow."""
    videos = selected_videos(request)
    if not videos:
        return bulk_message(request, "error", "Select at least one video first.")
    back = next_url(request, reverse("library"))
    form = BulkEditForm(request.POST if request.POST.get("confirm") == "yes" else None)
    if not form.is_bound or not form.is_valid():
        context = {"videos": videos, "form": form, "back": back}
        template = "videos/bulk_edit.html#bulk-edit" if request.htmx else "videos/bulk_edit.html"
        return render(request, template, context, status=422 if form.is_bound else 200)
    updated, job = edit_videos(videos, form.changes(), request.user)
    text = f"Edited {updated} of {len(videos)} video{'s' if len(videos) != 1 else ''}."
    if job:
        text += " Their files are being renamed to match."
    return bulk_done(request, text, videos, back)
