"""The Sources pages: ``/sources/`` (the list and the add form) and
``/sources/<id>/`` (one source: its check, live, and the videos it found,
with the Library's own rows). Someone else's source is a 404; staff see all."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST, require_safe

from mvidarr.roles import permission_required
from sources.forms import AddSourceForm, SourceForm
from sources.models import Source
from videos.views import with_active_jobs

PAGE_SIZE = 50
SKIPPED_SHOWN = 20


def get_source_for_user(request: HttpRequest, pk: int) -> Source:
    sources = Source.objects.for_user(request.user).select_related("artist", "profile")
    return get_object_or_404(sources, pk=pk)


def live_context(source: Source) -> dict:
    return {"source": source, "job": source.active_check()}


def render_live(subject: str, user, page: str) -> str:
    """For the UI socket: on a source's page, its check (state, progress,
    result) and, with it, its list of videos, which a check may have grown."""
    pk = subject.partition(":")[2]
    if page != "source" or not pk.isdigit():
        return ""
    source = Source.objects.for_user(user).filter(pk=pk).first()
    if source is None:
        return ""
    context = {
        **live_context(source),
        **_videos_context(source, None),
        "live": True,
        "perms": PermWrapper(user),
    }
    return render_to_string("sources/source.html#source-live", context) + render_to_string(
        "sources/source.html#source-videos", context
    )


def _videos_context(source: Source, page_number) -> dict:
    page = Paginator(source.videos, PAGE_SIZE).get_page(page_number)
    return {"page": page, "videos": with_active_jobs(page.object_list)}


@permission_required("sources.add_source", unsafe_only=True)
def source_index(request: HttpRequest) -> HttpResponse:
    """The user's sources; a POST adds one and queues its first check."""
    form = AddSourceForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                source = form.save()
                source.request_check()
        except IntegrityError:  # the same URL, added at the same moment
            form.add_error("url", "You already follow this URL.")
        else:
            messages.success(request, f"Following {source.display_name}: first check queued.")
            return redirect("source-page", pk=source.pk)
    sources = Source.objects.for_user(request.user).select_related("artist")
    context = {"form": form, "sources": sources, "existing": getattr(form, "existing", None)}
    return render(request, "sources/index.html", context, status=422 if form.errors else 200)


@login_required
@require_safe
def source_page(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request, pk)
    skipped = source.seen.exclude(skipped="").order_by("-seen_at", "-pk")[:SKIPPED_SHOWN]
    context = {
        **live_context(source),
        **_videos_context(source, request.GET.get("page")),
        "skipped": skipped,
    }
    return render(request, "sources/source.html", context)


@permission_required("sources.change_source")
@require_POST
def check_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a check (or find the one queued or running); with htmx, the
    check's live part comes back, which the UI socket then keeps current."""
    source = get_source_for_user(request, pk)
    source.request_check()
    if request.htmx:
        return render(request, "sources/source.html#source-live", live_context(source))
    return redirect("source-page", pk=source.pk)


@permission_required("sources.change_source")
def edit_source(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request, pk)
    every = source.check_every
    form = SourceForm(request.POST or None, instance=source, owner=source.owner)
    if request.method == "POST" and form.is_valid():
        source = form.save(commit=False)
        if source.check_every != every and source.last_checked_at:
            source.next_check_at = source.next_after(source.last_checked_at)
        source.save()
        messages.success(request, f"{source.display_name} saved.")
        return redirect("source-page", pk=source.pk)
    status = 422 if form.errors else 200
    return render(request, "sources/edit.html", {"source": source, "form": form}, status=status)


@permission_required("sources.delete_source")
def delete_source(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks; POST stops following. The videos it found stay."""
    source = get_source_for_user(request, pk)
    if request.method == "POST":
        source.remove()
        messages.success(request, f"No longer following {source.display_name}; its videos stay.")
        return redirect("sources")
    return render(request, "sources/delete.html", {"source": source})
