from __future__ import annotations

from django.contrib import admin

from videos.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "artist", "status", "file_size", "owner", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "artist", "url", "file")
    readonly_fields = ("file", "file_size", "metadata", "created_at", "updated_at")
