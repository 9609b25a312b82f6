from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "sources"

    def ready(self) -> None:
        # Kinds, the scheduled task and the renderer need the models, so not
        # before the app registry is ready.
        import sources.checks  # noqa: F401  (declares the kind and the scheduled task)
        from jobs.consumers import SUBJECT_RENDERERS
        from sources.views import render_live

        SUBJECT_RENDERERS["source"] = render_live
