from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self) -> None:
        # Kinds and renderers need the models, so not before the registry is ready.
        import videos.discovery  # noqa: F401  (declares the job kinds)
        import videos.editing  # noqa: F401
        import videos.importing  # noqa: F401
        import videos.tasks  # noqa: F401
        import videos.thumbnails  # noqa: F401
        from jobs.consumers import SUBJECT_RENDERERS
        from videos.artists import render_check
        from videos.views import render_row

        SUBJECT_RENDERERS["video"] = render_row
        SUBJECT_RENDERERS["artist"] = render_check
