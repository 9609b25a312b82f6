from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from mvidarr import keys, views
from mvidarr.api import api

handler404 = views.not_found
handler500 = views.server_error

urlpatterns = [
    path("setup/", views.setup, name="setup"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(template_name="mvidarr/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/keys/", keys.keys_page, name="api-keys"),
    path("settings/keys/<int:pk>/revoke/", keys.revoke_key, name="api-key-revoke"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("jobs.urls")),
    path("", include("videos.urls")),
    path("", include("integrations.urls")),
    path("", include("sources.urls")),
]
