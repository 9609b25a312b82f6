from django.apps import AppConfig


class MvidarrConfig(AppConfig):
    name = "mvidarr"
    verbose_name = "MVidarr"
