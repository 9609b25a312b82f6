"""The Import page (staff): bring a folder already on the server into a
user's library, as one job whose live progress is the job's own page.

Staff only: the folder is a path on the server, so whoever imports can read
any video file the server can."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from videos.importing import start_import


class ImportForm(forms.Form):
    path = forms.CharField(
        max_length=4096,
        label="Folder on the server",
        widget=forms.TextInput(attrs={"placeholder": "/srv/music-videos"}),
    )
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        label="Into the library of",
    )
    move = forms.BooleanField(
        required=False,
        label="Move the files (instead of copying them; hard links where possible)",
    )

    def clean_path(self) -> Path:
        text = self.cleaned_data["path"]
        if "\x00" in text or not text.startswith("/"):
            raise forms.ValidationError("Give the folder's absolute path on the server.")
        folder = Path(text)
        if not folder.is_dir():
            raise forms.ValidationError("There is no folder at this path on the server.")
        return folder


@staff_member_required
def import_library(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, initial={"user": request.user})
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "videos/import.html", {"form": form}, status=422)
        data = form.cleaned_data
        job, _ = start_import(data["user"], data["path"], data["move"])
        return redirect("job-detail", pk=job.pk)
    return render(request, "videos/import.html", {"form": form})
