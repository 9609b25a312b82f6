from django.urls import path

from integrations import pages

urlpatterns = [
    path("settings/", pages.settings_page, name="settings"),
    path("settings/notify/add/", pages.add_notify_url, name="settings-notify-add"),
    path("settings/notify/remove/", pages.remove_notify_url, name="settings-notify-remove"),
    path("settings/notify/test/", pages.send_test, name="settings-notify-test"),
    path("settings/imvdb/test/", pages.test_imvdb, name="settings-imvdb-test"),
    path(
        "settings/media-servers/<str:server>/test/", pages.test_server, name="settings-server-test"
    ),
]
