from django.urls import path

from videos import actions, artists, files, import_page, pages, profile_pages, views

urlpatterns = [
    path("", views.library, name="library"),
    path("videos/add/", views.add_video, name="video-add"),
    path("library/import/", import_page.import_library, name="library-import"),
    path("videos/bulk/download/", views.bulk_download, name="video-bulk-download"),
    path("videos/bulk/thumbnails/", views.bulk_thumbnails, name="video-bulk-thumbnails"),
    path("videos/bulk/ignore/", actions.bulk_ignore, name="video-bulk-ignore"),
    path("videos/bulk/delete/", actions.bulk_delete, name="video-bulk-delete"),
    path("videos/bulk/edit/", pages.bulk_edit, name="video-bulk-edit"),
    path("videos/<int:pk>/", pages.video_page, name="video-page"),
    path("videos/<int:pk>/file", files.video_file, name="video-file"),
    path("videos/<int:pk>/edit/", pages.edit_video_page, name="video-edit"),
    path("videos/<int:pk>/thumbnail/<int:key>.jpg", files.video_thumbnail, name="video-thumbnail"),
    path("videos/<int:pk>/download/", views.download_video, name="video-download"),
    path("videos/<int:pk>/cancel/", views.cancel_download, name="video-cancel"),
    path("videos/<int:pk>/ignore/", actions.ignore_video, name="video-ignore"),
    path(
        "videos/<int:pk>/unignore/", actions.ignore_video, {"ignore": False}, name="video-unignore"
    ),
    path("videos/<int:pk>/delete/", actions.delete_video, name="video-delete"),
    path("settings/profiles/", profile_pages.profiles, name="profiles"),
    path("settings/profiles/<int:pk>/", profile_pages.edit_profile, name="profile-edit"),
    path("settings/profiles/<int:pk>/default/", profile_pages.make_default, name="profile-default"),
    path("settings/profiles/<int:pk>/delete/", profile_pages.delete_profile, name="profile-delete"),
    path("artists/", artists.artist_index, name="artists"),
    path("artists/<int:pk>/", artists.artist_page, name="artist-page"),
    path("artists/<int:pk>/download-wanted/", artists.download_wanted, name="artist-download"),
    path("artists/<int:pk>/toggle/", artists.toggle, name="artist-toggle"),
    path("artists/<int:pk>/check/", artists.check_artist, name="artist-check"),
]
