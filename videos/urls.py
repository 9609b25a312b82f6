from django.urls import path

from videos import files, pages, views

urlpatterns = [
    path("", views.library, name="library"),
    path("videos/add/", views.add_video, name="video-add"),
    path("videos/bulk/download/", views.bulk_download, name="video-bulk-download"),
    path("videos/bulk/thumbnails/", views.bulk_thumbnails, name="video-bulk-thumbnails"),
    path("videos/<int:pk>/", pages.video_page, name="video-page"),
    path("videos/<int:pk>/file", files.video_file, name="video-file"),
    path("videos/<int:pk>/thumbnail/<int:key>.jpg", files.video_thumbnail, name="video-thumbnail"),
    path("videos/<int:pk>/download/", views.download_video, name="video-download"),
    path("videos/<int:pk>/cancel/", views.cancel_download, name="video-cancel"),
]
