from django.urls import path

from jobs import history, metrics, system, views

urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("activity/history/", history.history, name="history"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/cancel/", views.cancel_job, name="job-cancel"),
    path("jobs/<uuid:pk>/prioritize/", views.prioritize_job, name="job-prioritize"),
    path("jobs/<uuid:pk>/retry/", views.retry_job, name="job-retry"),
    path("system/", system.system, name="system"),
    path("system/pause/", system.pause_downloads, name="queue-pause"),
    path("system/resume/", system.resume_downloads, name="queue-resume"),
    path("system/tasks/<str:name>/run/", system.run_task, name="task-run"),
    path("metrics", metrics.metrics, name="metrics"),
]
