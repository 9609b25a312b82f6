from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from videos.models import Artist, Profile, Video
from videos.thumbnails import start_regenerating
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
    list_display = ("title", "artist", "status", "profile", "size", "owner", "created_at")
    list_filter = ("status", "profile")
    list_select_related = ("artist", "profile", "owner")
    search_fields = ("title", "artist__name", "url", "file")
    autocomplete_fields = ("artist",)
    readonly_fields = ("file", "size", "metadata", "thumbnail_sizes", "thumbnails_version",
                       "created_at", "updated_at")  # fmt: skip
    exclude = ("file_size",)
    actions = ["regenerate_thumbnails"]

    @admin.display(description="file size", ordering="file_size")
    def size(self, video: Video) -> str | None:
        return None if video.file_size is None else filesizeformat(video.file_size)

    def delete_model(self, request, obj: Video) -> None:
        """As everywhere else: its jobs cancelled and its thumbnails removed
        (the library file stays; the Library's delete offers that)."""
        obj.remove()

    def delete_queryset(self, request, queryset) -> None:
        for video in queryset:
            video.remove()

    @admin.action(description="Regenerate thumbnails")
    def regenerate_thumbnails(self, request, queryset) -> None:
        """One parent job with a child per selected video that has a picture."""
        parent = start_regenerating(request.user, list(queryset))
        count = parent.children_counts()["total"]
        url = reverse("job-detail", args=[parent.pk])
        text = 'Making the thumbnails of {} video(s): <a href="{}">follow the batch</a>.'
        self.message_user(request, format_html(text, count, url))


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    """Artists with their number of videos, counted in the list's own query."""

    list_display = ("name", "sort_name", "owner", "video_count", "monitored", "auto_download")
    list_filter = ("monitored", "auto_download")
    list_select_related = ("owner",)
    search_fields = ("name", "sort_name", "owner__username")
    readonly_fields = ("created_at",)

    def get_queryset(self, request) -> QuerySet:
        return super().get_queryset(request).with_counts()

    @admin.display(description="videos", ordering="video_count")
    def video_count(self, artist: Artist) -> int:
        return artist.video_count


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Ticking "is default" moves the mark from the old default (``Profile.save``);
    the default itself cannot be deleted or unticked, so there is always one."""

    list_display = ("name", "max_height", "container", "audio_only", "video_codec", "is_default")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj: Profile | None = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        if queryset.filter(is_default=True).exists():
            self.message_user(
                request,
                "The default profile was kept: make another the default first.",
                messages.WARNING,
            )
        super().delete_queryset(request, queryset.filter(is_default=False))
