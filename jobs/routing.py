from django.urls import path

from jobs.consumers import JobsConsumer, UiConsumer

websocket_urlpatterns = [
    path("ws/jobs/", JobsConsumer.as_asgi()),
    path("ws/ui/", UiConsumer.as_asgi()),
]
