from django.contrib import admin, messages

from sources.models import SeenEntry, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "owner",
        "artist",
        "check_every",
        "enabled",
        "last_checked_at",
        "last_result",
    )
    list_filter = ("enabled", "auto_download", "is_feed")
    search_fields = ("name", "url")
    list_select_related = ("owner", "artist")
    raw_id_fields = ("owner", "artist")
    readonly_fields = (
        "is_feed",
        "etag",
        "last_modified",
        "last_checked_at",
        "last_result",
        "last_ok",
        "created_at",
    )
    actions = ["check_now"]

    @admin.action(description="Check now")
    def check_now(self, request, queryset) -> None:
        jobs = [source.request_check()[0] for source in queryset]
        messages.success(request, f"{len(jobs)} check(s) queued or running.")


@admin.register(SeenEntry)
class SeenEntryAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "skipped", "seen_at")
    search_fields = ("title", "url")
    list_select_related = ("source",)
    raw_id_fields = ("source", "video")
