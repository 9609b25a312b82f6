from django.urls import path

from sources import views

urlpatterns = [
    path("sources/", views.source_index, name="sources"),
    path("sources/<int:pk>/", views.source_page, name="source-page"),
    path("sources/<int:pk>/check/", views.check_now, name="source-check"),
    path("sources/<int:pk>/edit/", views.edit_source, name="source-edit"),
    path("sources/<int:pk>/delete/", views.delete_source, name="source-delete"),
]
