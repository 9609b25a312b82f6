from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate, post_save


class MvidarrConfig(AppConfig):
    name = "mvidarr"
    verbose_name = "MVidarr"

    def ready(self) -> None:
        # Models can be imported only once the apps are ready.
        from mvidarr import roles

        post_save.connect(roles.join_members, sender=settings.AUTH_USER_MODEL)
        # After every app's migrate, not only ours: the permissions of apps
        # listed after this one are created by their own post_migrate.
        post_migrate.connect(roles.sync_groups, dispatch_uid="mvidarr.roles.sync_groups")
