"""Finished jobs: filters by status, kind and date, a text search, 50 a page."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from jobs.models import FINISHED, Job
from jobs.views import attach_children_counts

PER_PAGE = 50


class HistoryFilter(forms.Form):
    """GET parameters: status, kind, from, to (dates, inclusive), q."""

    status = forms.ChoiceField(required=False, label="Status")
    kind = forms.ChoiceField(required=False, label="Kind")
    q = forms.CharField(required=False, max_length=200, label="Search")

    def __init__(self, data, kinds: list[str]):
        super().__init__(data)
        self.fields["status"].choices = [("", "Any status")] + [(s, s) for s in FINISHED]
        self.fields["kind"].choices = [("", "Any kind")] + [(k, k) for k in kinds]
        # "from" is a keyword, so these two are added by name.
        self.fields["from"] = forms.DateField(required=False, label="From")
        self.fields["to"] = forms.DateField(required=False, label="To")

    def apply(self, jobs):
        """The filters that are valid; an invalid one is shown with its error and left out."""
        self.is_valid()
        data = self.cleaned_data
        if data.get("status"):
            jobs = jobs.filter(status=data["status"])
        if data.get("kind"):
            jobs = jobs.filter(kind=data["kind"])
        if data.get("from"):
            jobs = jobs.filter(finished_at__gte=_start_of(data["from"]))
        if data.get("to"):
            jobs = jobs.filter(finished_at__lt=_start_of(data["to"] + timedelta(days=1)))
        if q := (data.get("q") or "").strip():
            jobs = jobs.filter(Q(label__icontains=q) | Q(error__icontains=q))
        return jobs

    @property
    def active(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_safe
def history(request: HttpRequest) -> HttpResponse:
    mine = Job.objects.for_user(request.user)
    kinds = sorted(set(mine.finished().order_by().values_list("kind", flat=True).distinct()))
    form = HistoryFilter(request.GET, kinds)
    jobs = form.apply(mine.finished().select_related("owner").order_by("-finished_at", "-pk"))
    page = Paginator(jobs, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    attach_children_counts(rows)
    return render(
        request,
        "jobs/history.html",
        {"form": form, "page": page, "jobs": rows, "viewer": request.user},
    )
