"""Quality profiles: one default always, staff-only changes, and bad input
answered with a 4xx, through the API in-process and the model itself."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from jobs.models import Job
from videos.models import Profile, Video
from videos.models.profile import download_settings

URL = "http://127.0.0.1:9/clip.mp4"
HUGE = 10**30


def _best() -> Profile:
    return Profile.objects.get(name="Best")


def test_a_new_library_has_one_default_profile_taking_the_best(db):
    best = Profile.objects.get(is_default=True)
    assert (best.name, best.max_height, best.container) == ("Best", None, "any")


def test_with_no_profile_left_a_download_gets_the_best_in_plain_values(db):
    Profile.objects.all().delete()
    settings = download_settings(None)
    assert settings == {
        "name": "Best",
        "max_height": None,
        "container": "any",
        "audio_only": False,
        "video_codec": "copy",
    }
    # A child process unpickles them without Django: no choice enum members.
    assert {type(v) for v in settings.values()} <= {str, bool, type(None)}


def test_making_a_profile_the_default_takes_the_mark_from_the_old_one(db):
    small = Profile.objects.create(name="Small", max_height=360)
    small.make_default()
    assert list(Profile.objects.filter(is_default=True)) == [small]
    Profile.objects.create(name="HD", max_height=1080, is_default=True)
    assert list(Profile.objects.filter(is_default=True).values_list("name", flat=True)) == ["HD"]


def test_the_database_refuses_a_second_default(db):
    other = Profile.objects.create(name="Other")
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(pk=other.pk).update(is_default=True)


def test_staff_create_a_profile_that_everyone_can_list(api):
    body = {"name": "720p mkv", "max_height": 720, "container": "mkv"}
    created = api("post", "/profiles", user="staff", body=body)
    assert created.status_code == 201, created.content
    profile = created.json()
    assert profile["max_height"] == 720 and profile["container"] == "mkv"
    assert not profile["is_default"] and profile["video_codec"] == "copy"
    names = [p["name"] for p in api("get", "/profiles", user="bob").json()]
    assert names == ["720p mkv", "Best"]
    assert api("get", f"/profiles/{profile['id']}").json() == profile


def test_staff_change_a_profile_and_make_it_the_default(api):
    profile = api("post", "/profiles", user="staff", body={"name": "Small"}).json()
    patch = {"max_height": 480, "is_default": True}
    response = api("patch", f"/profiles/{profile['id']}", user="staff", body=patch)
    assert response.status_code == 200, response.content
    assert response.json()["max_height"] == 480 and response.json()["is_default"]
    assert not _best().is_default
    back = api("patch", f"/profiles/{profile['id']}", user="staff", body={"max_height": None})
    assert back.json()["max_height"] is None


def test_only_staff_change_profiles(api):
    assert api("post", "/profiles", body={"name": "Mine"}).status_code == 403
    best = _best()
    response = api("patch", f"/profiles/{best.pk}", body={"max_height": 144})
    assert response.status_code == 403
    assert response.json()["detail"]
    assert _best().max_height is None and not Profile.objects.filter(name="Mine").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": " \x00 "},
        {"name": "x" * 101},
        {"name": "Tiny", "max_height": 0},
        {"name": "Tiny", "max_height": HUGE},
        {"name": "Tiny", "max_height": "tall"},
        {"name": "Tiny", "container": "avi"},
        {"name": "Tiny", "video_codec": "hevc"},
        {"name": "Best"},
    ],
)
def test_bad_profile_input_gets_a_4xx_with_a_detail(api, body):
    response = api("post", "/profiles", user="staff", body=body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]
    assert Profile.objects.count() == 1


def test_the_default_profile_cannot_be_unset(api):
    response = api("patch", f"/profiles/{_best().pk}", user="staff", body={"is_default": False})
    assert response.status_code == 400
    assert "default" in response.json()["detail"]
    assert _best().is_default


@pytest.mark.parametrize("path", [f"/profiles/{HUGE}", "/profiles/424242"])
def test_unknown_profiles_are_404(api, path):
    assert api("get", path).status_code == 404
    assert api("patch", path, user="staff", body={"name": "x"}).status_code == 404


def test_a_video_remembers_the_profile_it_was_added_with(api):
    profile = Profile.objects.create(name="720p", max_height=720)
    by_name = api("post", "/videos", body={"url": URL, "profile": "720p"})
    assert by_name.status_code == 201, by_name.content
    assert by_name.json()["profile_id"] == profile.pk
    by_id = api("post", "/videos", user="bob", body={"url": URL, "profile": profile.pk})
    assert by_id.json()["profile_id"] == profile.pk
    plain = api("post", "/videos", body={"url": URL + "?2"})
    assert plain.json()["profile_id"] is None


@pytest.mark.parametrize("profile", ["No such", 424242, HUGE, "99999999999999999999999", True])
def test_an_unknown_profile_on_a_new_video_is_a_4xx(api, profile):
    response = api("post", "/videos", body={"url": URL, "profile": profile})
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]
    assert not Video.objects.exists()


def test_an_unknown_profile_on_a_new_job_is_a_400(api):
    for kind in ("download_video", "download_playlist", "extract_video_info"):
        body = {"kind": kind, "url": URL, "profile": "No such"}
        response = api("post", "/jobs", body=body)
        assert response.status_code == 400, response.content
        assert "No such" in response.json()["detail"]
    assert not Job.objects.exists() and not Video.objects.exists()


def test_a_job_by_url_takes_a_profile(api):
    profile = Profile.objects.create(name="Audio", audio_only=True)
    response = api(
        "post", "/jobs", body={"kind": "download_video", "url": URL, "profile": profile.pk}
    )
    assert response.status_code == 202, response.content
    assert Video.objects.get().profile == profile


def test_staff_make_a_profile_the_default_in_the_admin_but_cannot_delete_it(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    client.force_login(users["staff"])
    form = {"name": "HD", "max_height": "1080", "container": "mp4", "video_codec": "copy"}
    response = client.post("/admin/videos/profile/add/", {**form, "is_default": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    hd = Profile.objects.get(is_default=True)
    assert hd.name == "HD" and not _best().is_default
    assert client.get(f"/admin/videos/profile/{hd.pk}/delete/").status_code == 403
    unticked = client.post(f"/admin/videos/profile/{hd.pk}/change/", form)
    assert unticked.status_code == 200  # the form again, with the error
    assert Profile.objects.get(pk=hd.pk).is_default


def test_a_playlist_hands_its_profile_to_the_videos_it_finds(api):
    profile = Profile.objects.create(name="Small", max_height=360)
    body = {"kind": "download_playlist", "url": URL + "?list", "profile": "Small"}
    response = api("post", "/jobs", body=body)
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    entries = [{"url": f"{URL}?v={i}", "title": f"V{i}", "artist": ""} for i in range(3)]
    job.spec.received(job, entries)
    assert {v.profile for v in Video.objects.all()} == {profile}
