from __future__ import annotations

from jobs.models import Job, WorkerBeat
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


def test_staff_cannot_set_an_unchecked_url_on_a_video(client, users, settings):
    settings.ALLOW_PRIVATE_URLS = False
    users["staff"].is_superuser = True
    users["staff"].save()
    video = Video.objects.create(owner=users["alice"], url="https://93.184.215.14/v", title="T")
    client.force_login(users["staff"])
    form = {
        "owner": users["alice"].pk,
        "title": "T",
        "status": "wanted",
        "created_at_0": "2024-01-01",
    }
    form["created_at_1"] = "00:00:00"
    for url in ("http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"):
        response = client.post(f"/admin/videos/video/{video.pk}/change/", {**form, "url": url})
        assert response.status_code == 200  # the form again, with the error
        assert b"errorlist" in response.content
    video.refresh_from_db()
    assert video.url == "https://93.184.215.14/v"
    ok = client.post(
        f"/admin/videos/video/{video.pk}/change/", {**form, "url": "https://93.184.215.14/w"}
    )
    assert ok.status_code == 302, ok.content.decode()[:3000]
    video.refresh_from_db()
    assert video.url == "https://93.184.215.14/w"


def test_worker_host_and_pid_are_shown_to_staff_only(client, users):
    WorkerBeat.objects.create(name="box-7:4242", queues={"default": 1})
    client.force_login(users["alice"])
    stats = client.get("/api/jobs/stats").json()
    assert stats["workers"] and "box-7" not in str(stats)
    client.force_login(users["staff"])
    assert client.get("/api/jobs/stats").json()["workers"][0]["name"] == "box-7:4242"
