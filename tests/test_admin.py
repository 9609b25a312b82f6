from __future__ import annotations

from jobs.models import Job
from videos.models import Video


def test_staff_can_list_and_cancel_jobs_in_the_admin(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4", title="T")
    job, _ = video.request_download(users["alice"])
    client.force_login(users["staff"])
    assert client.get("/admin/jobs/job/").status_code == 200
    assert client.get(f"/admin/jobs/job/{job.pk}/change/").status_code == 200
    response = client.post(
        "/admin/jobs/job/",
        {"action": "cancel_jobs", "_selected_action": [str(job.pk)]},
        follow=True,
    )
    assert b"Cancelled 1 job(s)." in response.content
    assert Job.objects.get(pk=job.pk).status == "cancelled"


def test_ordinary_users_cannot_open_the_admin(client, users):
    client.force_login(users["alice"])
    assert client.get("/admin/jobs/job/").status_code == 302


def test_staff_can_retry_failed_jobs_in_the_admin(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    video = Video.objects.create(owner=users["alice"], url="http://127.0.0.1/v.mp4", title="T")
    job, _ = video.request_download(users["alice"])
    job.cancel()
    client.force_login(users["staff"])
    response = client.post(
        "/admin/jobs/job/", {"action": "retry_jobs", "_selected_action": [str(job.pk)]}, follow=True
    )
    assert b"Started 1 new job(s)." in response.content
    assert Job.objects.filter(subject=video.subject, status="queued").count() == 1
