from __future__ import annotations

from django import forms
from django.contrib import admin

from videos.models import Video
from videos.validation import BadUrl, check_url


class VideoAdminForm(forms.ModelForm):
    """Staff edits go through the same URL check as everyone's submissions."""

    class Meta:
        model = Video
        fields = "__all__"

    def clean_url(self) -> str:
        try:
            return check_url(self.cleaned_data["url"])
        except BadUrl as e:
            raise forms.ValidationError(str(e)) from None


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    form = VideoAdminForm
    list_display = ("title", "artist", "status", "file_size", "owner", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "artist", "url", "file")
    readonly_fields = ("file", "file_size", "metadata", "created_at", "updated_at")
