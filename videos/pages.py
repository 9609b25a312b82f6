"""The video page, ``/videos/<id>/``: what the library knows of one video,
a player for its file, its jobs and its buttons."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.models import Job
from videos.files import library_file
from videos.views import attach_last_failures, get_video_for_user

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
    video.job = next((job for job in jobs if job.is_active), None)
    attach_last_failures([video])
    context = {
        "video": video,
        "jobs": jobs,
        "playable": library_file(video) is not None,
        "viewer": request.user,
    }
    return render(request, "videos/video.html", context)
