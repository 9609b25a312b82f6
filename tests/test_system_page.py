"""The System page: staff see workers and scheduled tasks, pause downloads
and run a task now."""

from __future__ import annotations

from jobs import scheduler
from jobs.models import PausedQueue, ScheduledTask


def test_only_staff_see_the_system_page(client, users):
    client.force_login(users["alice"])
    assert client.get("/system/").status_code == 302
    assert client.post("/system/pause/").status_code == 302
    assert not PausedQueue.objects.exists()


def test_staff_see_tasks_and_can_run_one_now(client, users):
    scheduler.run_due()
    client.force_login(users["staff"])
    page = client.get("/system/").content.decode()
    for name in scheduler.PERIODIC:
        assert f'id="task-{name}"' in page
    assert "No worker is alive" in page
    response = client.post("/system/tasks/prune_history/run/", HTTP_HX_REQUEST="true")
    assert response.status_code == 302 and response["Location"] == "/system/"
    assert ScheduledTask.objects.get(name="prune_history").run_now
    scheduler.run_due()
    assert not ScheduledTask.objects.get(name="prune_history").run_now
    assert client.post("/system/tasks/rm -rf/run/").status_code == 404


def test_staff_pause_and_resume_downloads_from_the_page(client, users):
    client.force_login(users["staff"])
    assert client.post("/system/pause/").status_code == 302
    assert PausedQueue.is_paused("video_downloads")
    assert "Resume downloads" in client.get("/system/").content.decode()
    client.post("/system/resume/")
    assert not PausedQueue.is_paused("video_downloads")
