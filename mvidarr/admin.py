from __future__ import annotations

from django.contrib import admin

from mvidarr.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key`; here they can be revoked."""

    list_display = ("prefix", "name", "user", "created_at", "last_used_at")
    readonly_fields = ("prefix", "digest", "user", "created_at", "last_used_at")
    search_fields = ("name", "user__username")

    def has_add_permission(self, request) -> bool:
        return False
