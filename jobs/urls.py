from django.urls import path

from jobs import views

urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/cancel/", views.cancel_job, name="job-cancel"),
]
