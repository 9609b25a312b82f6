"""The Settings page for quality profiles (staff): list, add, change, make
default, delete. The API (``videos/profiles_api.py``) does the same for scripts."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from videos.models import MAX_HEIGHT, Profile


class ProfileForm(forms.ModelForm):
    max_height = forms.IntegerField(
        min_value=1,
        max_value=MAX_HEIGHT,
        required=False,
        label="Max height",
        help_text="Lines, e.g. 720. Empty: the best there is.",
    )

    class Meta:
        model = Profile
        fields = ["name", "max_height", "container", "audio_only", "video_codec"]
        labels = {"audio_only": "Audio only"}


def _page(request: HttpRequest, form: ProfileForm, editing: Profile | None, status: int = 200):
    context = {
        "profiles": Profile.objects.annotate_usage(),
        "form": form,
        "editing": editing,
    }
    return render(request, "videos/profiles.html", context, status=status)


@staff_member_required
def profiles(request: HttpRequest) -> HttpResponse:
    """The list and the form to add one; a POST adds it."""
    form = ProfileForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, None, status=422)
        profile = form.save()
        messages.success(request, f"Profile {profile.name!r} added.")
        return redirect("profiles")
    return _page(request, form, None)


@staff_member_required
def edit_profile(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile, pk=pk)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, profile, status=422)
        form.save()
        messages.success(request, f"Profile {profile.name!r} saved.")
        return redirect("profiles")
    return _page(request, form, profile)


@staff_member_required
@require_POST
def make_default(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile, pk=pk)
    profile.make_default()
    messages.success(request, f"{profile.name!r} is now the default profile.")
    return redirect("profiles")


@staff_member_required
@require_POST
def delete_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a profile that is not the default; its videos fall back to the default."""
    profile = get_object_or_404(Profile, pk=pk)
    if profile.is_default:
        messages.error(request, "The default profile cannot be deleted: make another the default.")
    else:
        profile.delete()
        messages.success(request, f"Profile {profile.name!r} deleted.")
    return redirect("profiles")
