from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Kinds, options and scheduled tasks need the models, so not before
        # the app registry is ready.
        import integrations.events  # noqa: F401  (declares the kinds, options, tasks, listener)
