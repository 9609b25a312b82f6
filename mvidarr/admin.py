from __future__ import annotations

from django.contrib import admin

from mvidarr.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created on the keys page or with `manage.py create_api_key`;
    here staff see everyone's and can revoke them (which closes their sockets)."""

    list_display = ("prefix", "name", "user", "scopes", "created_at", "last_used_at")
    readonly_fields = ("prefix", "digest", "user", "scopes", "created_at", "last_used_at")
    search_fields = ("name", "user__username")

    def has_add_permission(self, request) -> bool:
        return False

    def delete_model(self, request, obj: ApiKey) -> None:
        obj.revoke()

    def delete_queryset(self, request, queryset) -> None:
        for key in queryset:
            key.revoke()
