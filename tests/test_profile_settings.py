"""The Settings page for quality profiles: staff add, change, make default and
delete profiles; everyone else is kept out; bad input is answered on the form."""

from __future__ import annotations

import pytest

from videos.models import Profile, Video


@pytest.fixture
def staff_client(client, users):
    client.force_login(users["staff"])
    return client


def test_staff_add_a_profile_on_the_settings_page(staff_client):
    page = staff_client.get("/settings/profiles/")
    assert page.status_code == 200 and b"Best" in page.content
    form = {"name": "720p mkv", "max_height": "720", "container": "mkv", "video_codec": "h264"}
    response = staff_client.post("/settings/profiles/", form, follow=True)
    assert b"Profile &#x27;720p mkv&#x27; added." in response.content
    profile = Profile.objects.get(name="720p mkv")
    assert (profile.max_height, profile.container, profile.video_codec) == (720, "mkv", "h264")
    assert not profile.is_default and not profile.audio_only


def test_staff_change_a_profile_and_make_it_the_default(staff_client):
    small = Profile.objects.create(name="Small", max_height=360)
    page = staff_client.get(f"/settings/profiles/{small.pk}/")
    assert b'value="360"' in page.content
    form = {"name": "Smaller", "max_height": "", "container": "webm", "audio_only": "on",
            "video_codec": "copy"}  # fmt: skip
    assert staff_client.post(f"/settings/profiles/{small.pk}/", form).status_code == 302
    small.refresh_from_db()
    assert (small.name, small.max_height, small.container, small.audio_only) == (
        "Smaller",
        None,
        "webm",
        True,
    )
    staff_client.post(f"/settings/profiles/{small.pk}/default/")
    assert list(Profile.objects.filter(is_default=True)) == [small]


def test_deleting_a_profile_sends_its_videos_to_the_default(staff_client, users):
    small = Profile.objects.create(name="Small", max_height=360)
    video = Video.objects.create(owner=users["alice"], url="https://x.test/v", profile=small)
    page = staff_client.get("/settings/profiles/")
    assert b"<td>1</td>" in page.content  # the one video that asks for it
    staff_client.post(f"/settings/profiles/{small.pk}/delete/")
    assert not Profile.objects.filter(pk=small.pk).exists()
    video.refresh_from_db()
    assert video.profile is None


def test_the_default_profile_cannot_be_deleted(staff_client):
    best = Profile.objects.get(is_default=True)
    response = staff_client.post(f"/settings/profiles/{best.pk}/delete/", follow=True)
    assert b"cannot be deleted" in response.content
    assert Profile.objects.filter(pk=best.pk, is_default=True).exists()


@pytest.mark.parametrize(
    "form, error",
    [
        ({"name": "", "container": "any", "video_codec": "copy"}, b"This field is required"),
        ({"name": "Best", "container": "any", "video_codec": "copy"}, b"already exists"),
        ({"name": "Big", "max_height": "99999", "container": "any", "video_codec": "copy"},
         b"less than or equal to 8640"),
        ({"name": "Big", "max_height": "10" * 20, "container": "any", "video_codec": "copy"},
         b"less than or equal to 8640"),
        ({"name": "Odd", "container": "avi", "video_codec": "copy"}, b"Select a valid choice"),
        ({"name": "Odd", "container": "any", "video_codec": "vp9"}, b"Select a valid choice"),
    ],
)  # fmt: skip
def test_bad_profile_input_is_answered_on_the_form(staff_client, form, error):
    response = staff_client.post("/settings/profiles/", form)
    assert response.status_code == 422
    assert error in response.content
    assert Profile.objects.count() == 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/settings/profiles/"),
        ("post", "/settings/profiles/"),
        ("get", "/settings/profiles/{pk}/"),
        ("post", "/settings/profiles/{pk}/default/"),
        ("post", "/settings/profiles/{pk}/delete/"),
    ],
)
def test_only_staff_reach_the_profile_settings(client, users, method, path):
    other = Profile.objects.create(name="Other")
    client.force_login(users["alice"])
    response = getattr(client, method)(path.format(pk=other.pk), {"name": "Mine"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Profile.objects.filter(pk=other.pk, name="Other", is_default=False).exists()
    assert Profile.objects.count() == 2


def test_an_unknown_profile_is_404(staff_client):
    assert staff_client.get("/settings/profiles/999999/").status_code == 404
    assert staff_client.post("/settings/profiles/999999/delete/").status_code == 404
