from django.urls import path

from videos import actions, files, pages, views

urlpatterns = [
    path("", views.library, name="library"),
    path("videos/add/", views.add_video, name="video-add"),
    path("videos/bulk/download/", views.bulk_download, name="video-bulk-download"),
    path("videos/bulk/ignore/", actions.bulk_ignore, name="video-bulk-ignore"),
    path("videos/bulk/delete/", actions.bulk_delete, name="video-bulk-delete"),
    path("videos/<int:pk>/", pages.video_page, name="video-page"),
    path("videos/<int:pk>/file", files.video_file, name="video-file"),
    path("videos/<int:pk>/download/", views.download_video, name="video-download"),
    path("videos/<int:pk>/cancel/", views.cancel_download, name="video-cancel"),
    path("videos/<int:pk>/ignore/", actions.ignore_video, name="video-ignore"),
    path(
        "videos/<int:pk>/unignore/", actions.ignore_video, {"ignore": False}, name="video-unignore"
    ),
    path("videos/<int:pk>/delete/", actions.delete_video, name="video-delete"),
]
