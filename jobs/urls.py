from django.urls import path

from jobs import system, views

urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/cancel/", views.cancel_job, name="job-cancel"),
    path("system/", system.system, name="system"),
    path("system/pause/", system.pause, name="queue-pause"),
    path("system/resume/", system.resume, name="queue-resume"),
    path("system/tasks/<str:name>/run/", system.run_task, name="task-run"),
]
