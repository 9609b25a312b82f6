"""The Artists pages: ``/artists/`` (every artist with its counts) and
``/artists/<id>/`` (one artist's videos, live like the Library's rows, and
its buttons)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from mvidarr.roles import permission_required
from videos.discovery import NO_KEY, NothingToCheck, can_check, check_now, latest_check
from videos.models import Artist, Video
from videos.models.artist import BY_SORT_NAME
from videos.tasks import start_bulk_download
from videos.views import with_active_jobs

PAGE_SIZE = 50
# ?sort= on the index: what each value orders by.
SORTS = {
    "name": BY_SORT_NAME,
    "-name": (Lower("sort_name").desc(), "-pk"),
    "videos": ("-video_count", *BY_SORT_NAME),
    "added": ("-created_at", "-pk"),
}
# What "Download wanted" fetches.
DOWNLOADABLE = (Video.Status.WANTED, Video.Status.FAILED)
TOGGLES = ("monitored", "auto_download")


def get_artist_for_user(request: HttpRequest, pk: int) -> Artist:
    """The artist with its counts (one query), if the user may see it; else 404."""
    return get_object_or_404(Artist.objects.for_user(request.user).with_counts(), pk=pk)


@login_required
@require_safe
def artist_index(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    artists = Artist.objects.for_user(request.user).with_counts().order_by(*SORTS[sort])
    page = Paginator(artists, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "artists": page.object_list, "sort": sort}
    return render(request, "videos/artists.html", context)


@login_required
@require_safe
def artist_page(request: HttpRequest, pk: int) -> HttpResponse:
    artist = get_artist_for_user(request, pk)
    # Through the artist: Django gives each video this artist object, no join.
    videos = artist.videos.order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in Video.Status.values:
        videos = videos.filter(status=status)
    page = Paginator(videos, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "artist": artist,
        "page": page,
        "videos": with_active_jobs(page.object_list),
        "status": status,
        "downloadable": sum(getattr(artist, f"{s}_count") for s in DOWNLOADABLE),
        **_check_context(artist),
    }
    return render(request, "videos/artist.html", context)


def _check_context(artist: Artist) -> dict:
    return {"check": latest_check(artist), "can_check": can_check(artist), "no_check": NO_KEY}


def render_check(subject: str, user, page: str) -> str:
    """The live part of ``artist:<id>`` for the UI socket: the artist page's
    line about its latest check (nothing elsewhere, nor for others' artists)."""
    pk = subject.partition(":")[2]
    if page != "artist" or not pk.isdigit():
        return ""
    artist = Artist.objects.for_user(user).filter(pk=pk).first()
    if artist is None:
        return ""
    context = {"artist": artist, "live": True, **_check_context(artist)}
    return render_to_string("videos/artist.html#artist-check", context)


@permission_required("videos.change_video")
@require_POST
def download_wanted(request: HttpRequest, pk: int) -> HttpResponse:
    """One bulk download of the artist's wanted and failed videos."""
    artist = get_artist_for_user(request, pk)
    videos = list(artist.videos.filter(status__in=DOWNLOADABLE))
    if not videos:
        messages.info(request, f"{artist.name} has no wanted or failed videos to download.")
    else:
        parent = start_bulk_download(request.user, videos)
        queued = parent.children_counts()["total"]
        messages.success(request, f"Queued {queued} download(s) of {artist.name}.")
    return redirect("artist-page", pk=artist.pk)


@permission_required("videos.change_artist")
@require_POST
def check_artist(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Check now": a check job, whose progress the page shows live."""
    artist = get_artist_for_user(request, pk)
    try:
        check_now(artist)
    except NothingToCheck as e:
        messages.error(request, str(e))
    return redirect("artist-page", pk=artist.pk)


@permission_required("videos.change_artist")
@require_POST
def toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Flip ``monitored`` or ``auto_download`` (the form's ``field``)."""
    artist = get_artist_for_user(request, pk)
    field = request.POST.get("field", "")
    if field in TOGGLES:
        setattr(artist, field, not getattr(artist, field))
        artist.save(update_fields=[field])
    return redirect(reverse("artist-page", args=[artist.pk]))
