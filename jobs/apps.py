from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self) -> None:
        # Kinds register themselves when their module is imported, which
        # needs the models, so not before the app registry is ready.
        import jobs.ping  # noqa: F401
