"""Roles through groups and permissions: members change their own library,
a viewer sees everything its owner has and changes nothing."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from jobs.consumers import JobsConsumer
from jobs.models import Job
from jobs.publisher import user_group
from mvidarr import roles
from mvidarr.models import ApiKey, Viewer
from tests.pagekit import job_of, video_of


def test_every_new_account_is_a_member_and_viewers_hold_only_view_permissions(users, viewer):
    assert [g.name for g in users["bob"].groups.all()] == [roles.MEMBERS]
    assert [g.name for g in viewer.groups.all()] == [roles.VIEWERS]
    viewers = Group.objects.get(name=roles.VIEWERS).permissions.all()
    assert viewers and all(p.codename.startswith("view_") for p in viewers)
    assert {"view_video", "view_artist", "view_job"} <= {p.codename for p in viewers}
    assert users["bob"].has_perms(["videos.add_video", "videos.delete_video", "jobs.change_job"])
    assert not viewer.has_perm("videos.change_video")
    assert viewer.has_perm("videos.view_video")


def test_permissions_of_the_account_and_of_its_groups_count_alike(
    users, viewer, django_assert_num_queries
):
    viewer.user_permissions.add(Permission.objects.get(codename="change_video"))
    fresh = type(viewer).objects.get(pk=viewer.pk)
    with django_assert_num_queries(1):  # both kinds in one UNION, then kept on the object
        assert fresh.has_perm("videos.change_video") and fresh.has_perm("videos.view_video")
        assert not fresh.has_perm("videos.delete_video")
    assert {p for p in fresh.get_all_permissions() if not p.startswith("videos.view_")} == {
        "videos.change_video",
        "jobs.view_job",
        "sources.view_source",
    }
    root = type(viewer).objects.create_superuser("root", password="x")
    assert root.has_perm("videos.delete_video") and root.has_perm("sources.add_source")


def test_each_account_reads_its_own_permissions_through_the_one_compiled_query(users, viewer):
    accounts = [users["bob"], viewer, users["alice"], viewer]
    fresh = [type(account).objects.get(pk=account.pk) for account in accounts]
    assert [a.has_perm("videos.change_video") for a in fresh] == [True, False, True, False]
    users["alice"].groups.clear()
    assert not type(viewer).objects.get(pk=users["alice"].pk).has_perm("videos.view_video")


def test_a_viewer_sees_its_owners_library_and_nobody_elses(client, users, viewer):
    alice, bob = users["alice"], users["bob"]
    mine = video_of(alice, "Alice Song", artist="Alice Band")
    job = job_of(alice, mine)
    theirs = video_of(bob, "Bob Song")
    client.force_login(viewer)
    library = client.get("/").content.decode()
    assert "Alice Song" in library and "Bob Song" not in library
    assert client.get(f"/videos/{mine.pk}/").status_code == 200
    assert client.get(f"/videos/{theirs.pk}/").status_code == 404
    assert client.get(f"/artists/{mine.artist_id}/").status_code == 200
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    assert [v["id"] for v in client.get("/api/videos").json()["items"]] == [mine.pk]
    assert client.get(f"/api/jobs/{job.pk}").status_code == 200
    # The owner sees nothing of the viewer's, which has nothing anyway.
    client.force_login(alice)
    assert client.get("/api/videos").json()["count"] == 1


def test_a_viewer_changes_nothing_on_the_pages_and_is_told_why(client, users, viewer):
    video = video_of(users["alice"], "Song", artist="Band")
    job = job_of(users["alice"], video)
    client.force_login(viewer)
    for path in [
        "/videos/add/",
        f"/videos/{video.pk}/download/",
        f"/videos/{video.pk}/delete/",
        f"/jobs/{job.pk}/cancel/",
        f"/artists/{video.artist_id}/toggle/",
    ]:
        response = client.post(path, {"url": "https://videos.example.com/x", "field": "monitored"})
        assert response.status_code == 403, path
        assert "may look at this library but not change it" in response.content.decode()
    edit = client.get(f"/videos/{video.pk}/edit/")
    assert edit.status_code == 403
    video.refresh_from_db()
    job.refresh_from_db()
    assert video.status == "wanted" and job.status == "queued"


def test_a_viewer_changes_nothing_over_the_api(client, users, viewer):
    video = video_of(users["alice"], "Song")
    job = job_of(users["alice"], video)
    client.force_login(viewer)
    _, raw = ApiKey.issue(viewer, "v")
    for headers in ({}, {"HTTP_X_API_KEY": raw}):
        for method, path in [
            ("post", "/api/videos"),
            ("post", f"/api/videos/{video.pk}/download"),
            ("patch", f"/api/videos/{video.pk}"),
            ("delete", f"/api/videos/{video.pk}"),
            ("post", f"/api/jobs/{job.pk}/cancel"),
        ]:
            response = getattr(client, method)(
                path, data="{}", content_type="application/json", **headers
            )
            assert response.status_code == 403, (method, path)
            assert response.json() == {"detail": roles.READ_ONLY}


def test_a_viewer_sees_no_buttons_it_cannot_use(client, users, viewer):
    idle = video_of(users["alice"], "Idle")
    busy = video_of(users["alice"], "Busy")
    job_of(users["alice"], busy)
    buttons = [f"/videos/{idle.pk}/download/", f"/videos/{busy.pk}/cancel/", 'id="add-form"']
    client.force_login(viewer)
    library = client.get("/").content.decode()
    assert not [b for b in [*buttons, 'id="bulk-form"'] if b in library]
    page = client.get(f"/videos/{idle.pk}/").content.decode()
    assert "/download/" not in page and "/edit/" not in page and "Delete…" not in page
    assert "/cancel/" not in client.get("/activity/").content.decode()
    client.force_login(users["alice"])
    library = client.get("/").content.decode()
    assert all(b in library for b in buttons)


@pytest.mark.django_db(transaction=True)
def test_a_viewers_socket_follows_the_owners_jobs_but_cannot_cancel_them(users, viewer):
    job = job_of(users["alice"], video_of(users["alice"]))

    async def scenario():
        ws = WebsocketCommunicator(JobsConsumer.as_asgi(), "/ws/jobs/")
        ws.scope["user"] = viewer
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "subscribe", "all": True})
        snapshot = await ws.receive_json_from(5)
        frame = {"type": "status", "job_id": str(job.pk), "status": "running", "ts": 1.0}
        event = {"type": "job.event", "frame": frame, "owner_id": job.owner_id, "subject": ""}
        await get_channel_layer().group_send(user_group(job.owner_id), event)
        heard = await ws.receive_json_from(5)
        await ws.send_json_to({"type": "cancel", "job_id": str(job.pk)})
        refused = await ws.receive_json_from(5)
        await ws.disconnect()
        return snapshot, heard, refused

    snapshot, heard, refused = async_to_sync(scenario)()
    assert [j["id"] for j in snapshot["jobs"]] == [str(job.pk)]
    assert heard["status"] == "running"
    assert refused == {"type": "error", "message": roles.READ_ONLY, "job_id": str(job.pk)}
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_the_viewer_command_attaches_and_detaches_a_viewer(users):
    call_command("viewer", "bob", "--of", "alice")
    bob = users["bob"]
    assert Viewer.objects.get(user=bob).owner == users["alice"]
    assert not type(bob).objects.get(pk=bob.pk).has_perm("videos.change_video")
    call_command("viewer", "bob", "--member")
    assert not Viewer.objects.filter(user=bob).exists()
    assert type(bob).objects.get(pk=bob.pk).has_perm("videos.change_video")


@pytest.mark.parametrize(
    ("user", "owner", "message"),
    [
        ("staff", "alice", "Staff see everything already"),
        ("alice", "alice", "cannot view its own library"),
        ("bob", "nobody", "No user named 'nobody'"),
    ],
)
def test_the_viewer_command_refuses_what_makes_no_sense(users, user, owner, message):
    with pytest.raises(CommandError, match=message):
        call_command("viewer", user, "--of", owner)


def test_a_viewer_of_a_viewer_is_refused(users, viewer):
    with pytest.raises(CommandError, match="vera is a viewer"):
        call_command("viewer", "bob", "--of", "vera")


def test_staff_attach_a_viewer_in_the_admin(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    client.force_login(users["staff"])
    form = {"user": users["bob"].pk, "owner": users["alice"].pk}
    assert client.post("/admin/mvidarr/viewer/add/", form).status_code == 302
    assert not type(users["bob"]).objects.get(pk=users["bob"].pk).has_perm("jobs.change_job")
    refused = client.post("/admin/mvidarr/viewer/add/", {**form, "user": users["staff"].pk})
    assert "Staff see everything already" in refused.content.decode()
    client.post(f"/admin/mvidarr/viewer/{users['bob'].pk}/delete/", {"post": "yes"})
    assert [g.name for g in users["bob"].groups.all()] == [roles.MEMBERS]
