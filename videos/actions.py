"""What can be done to videos besides downloading them: ignore, unignore and
delete, one at a time (the video page, Library rows) or for the Library's
selection.

Each action is a form POST that redirects back (``next`` when it is a safe
local URL). A Library row's buttons get their row back with htmx, as its
Download and Cancel do. Deleting asks first: ``GET /videos/<id>/delete/``
is the confirm page, and the bulk form's "Delete selected" answers with the
same confirmation before anything is deleted.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from jobs.views import next_url
from mvidarr.roles import permission_required
from videos.models import Video
from videos.views import (
    bulk_done,
    bulk_message,
    get_video_for_user,
    row_or_redirect,
    selected_videos,
)


@permission_required("videos.change_video")
@require_POST
def ignore_video(request: HttpRequest, pk: int, ignore: bool = True) -> HttpResponse:
    """Leave the video out of bulk and playlist downloads (its download
    stops), or with ``ignore=False`` (``/unignore/``) take it back."""
    video = get_video_for_user(request, pk)
    if ignore:
        video.ignore()
    else:
        video.unignore()
    return row_or_redirect(request, video)


@permission_required("videos.delete_video")
@require_http_methods(["GET", "HEAD", "POST"])
def delete_video(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm page. POST: delete the video (its jobs are cancelled
    first); ``delete_file`` removes its file, NFO and thumbnail too."""
    video = get_video_for_user(request, pk)
    back = _back(request, [video])
    if request.method != "POST":
        action = reverse("video-delete", args=[video.pk])
        context = {"videos": [video], "action": action, "back": back}
        return render(request, "videos/delete.html", context)
    removed = video.remove(delete_file=_with_files(request))
    messages.success(request, _deleted([video], removed))
    return redirect(back)


@permission_required("videos.change_video")
@require_POST
def bulk_ignore(request: HttpRequest) -> HttpResponse:
    videos = selected_videos(request)
    if not videos:
        return bulk_message(request, "error", "Select at least one video first.")
    for video in videos:
        video.ignore()
    text = (
        f"Ignored {len(videos)} video{'s' if len(videos) != 1 else ''}: "
        "bulk and playlist downloads leave them out."
    )
    return bulk_done(request, text, videos, next_url(request, reverse("library")))


@permission_required("videos.delete_video")
@require_POST
def bulk_delete(request: HttpRequest) -> HttpResponse:
    """The bulk form's "Delete selected": the confirmation first (with htmx in
    the page's message area, else as a page), then, confirmed, the deletion."""
    videos = selected_videos(request)
    if not videos:
        return bulk_message(request, "error", "Select at least one video first.")
    back = _back(request, videos)
    if request.POST.get("confirm") != "yes":
        action = reverse("video-bulk-delete")
        context = {"videos": videos, "selection": videos, "action": action, "back": back}
        template = "videos/delete.html#confirm" if request.htmx else "videos/delete.html"
        return render(request, template, context)
    with_files = _with_files(request)
    removed = [path for video in videos for path in video.remove(delete_file=with_files)]
    messages.success(request, _deleted(videos, removed))
    return redirect(back)


def _with_files(request: HttpRequest) -> bool:
    return request.POST.get("delete_file", "") in ("true", "on", "1")


def _back(request: HttpRequest, videos: list[Video]) -> str:
    """Where to go after deleting: ``next``, unless that is a deleted video's page."""
    back = next_url(request, reverse("library"))
    gone = {reverse("video-page", args=[video.pk]) for video in videos}
    return reverse("library") if back.split("?")[0] in gone else back


def _deleted(videos: list[Video], removed: list) -> str:
    what = f"“{videos[0].display_title}”" if len(videos) == 1 else f"{len(videos)} videos"
    if not removed:
        return f"Deleted {what}."
    return f"Deleted {what} and {len(removed)} file{'s' if len(removed) != 1 else ''}."
