"""The video page, ``/videos/<id>/``: what the library knows of one video,
a player for its file, its jobs and its buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jobs.models import Job
from videos.editing import EDITABLE, edit_video
from videos.files import library_file
from videos.forms import EditVideoForm
from videos.views import get_video_for_user, with_active_jobs

# Jobs listed on the page, newest first (History has them all).
JOB_LIMIT = 50


@login_required
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
        "playable": library_file(video) is not None,
        "viewer": request.user,
    }
    return render(request, "videos/video.html", context)


@login_required
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
