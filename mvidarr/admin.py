from __future__ import annotations

from django import forms
from django.contrib import admin

from mvidarr import roles
from mvidarr.models import ApiKey, Viewer


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


class ViewerForm(forms.ModelForm):
    class Meta:
        model = Viewer
        fields = ("user", "owner")

    def clean(self) -> dict:
        data = super().clean()
        user = data.get("user") or getattr(self.instance, "user", None)
        if user and data.get("owner"):
            roles.check_viewer(user, data["owner"])
        return data


@admin.register(Viewer)
class ViewerAdmin(admin.ModelAdmin):
    """Read-only accounts and the library each one sees. Saving puts the
    account in Viewers (and out of Members); deleting makes it a member again."""

    form = ViewerForm
    list_display = ("user", "owner")
    autocomplete_fields = ("user", "owner")
    search_fields = ("user__username", "owner__username")

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def save_model(self, request, obj: Viewer, form, change) -> None:
        roles.make_viewer(obj.user, obj.owner)

    def delete_model(self, request, obj: Viewer) -> None:
        roles.make_member(obj.user)

    def delete_queryset(self, request, queryset) -> None:
        for viewer in queryset.select_related("user"):
            roles.make_member(viewer.user)
