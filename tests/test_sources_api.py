"""``/api/sources``: following, changing, checking; bad input gets a 4xx."""

from __future__ import annotations

import pytest

from jobs.models import Job
from sources.models import Source
from videos.models import Artist

URL = "https://videos.example.com/feed.xml"
HUGE = "99999999999999999999999"


def create(api, user="alice", **body):
    return api("post", "/sources", user=user, body={"url": URL, **body})


def test_following_a_url_queues_its_first_check(api):
    response = create(api, name="Mine", check_every=60, title_include="official")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["name"], data["check_every"], data["auto_download"]) == ("Mine", 60, True)
    job = Job.objects.get(pk=data["job_id"])
    assert (job.kind, job.queue, job.subject) == (
        "check_source",
        "metadata",
        f"source:{data['id']}",
    )


def test_the_same_url_twice_is_a_409_naming_the_source(api):
    first = create(api).json()
    response = create(api)
    assert response.status_code == 409
    assert response.json() == {"detail": "You already follow this URL.", "id": first["id"]}
    assert create(api, user="bob").status_code == 201  # per owner


def test_check_returns_the_running_check_instead_of_a_second(api):
    source = create(api).json()
    first = api("post", f"/sources/{source['id']}/check")
    assert first.status_code == 202
    assert first.json()["job_id"] == source["job_id"]
    assert Job.objects.filter(kind="check_source").count() == 1


def test_people_see_and_change_only_their_own(api):
    source = create(api).json()
    path = f"/sources/{source['id']}"
    for method, body in (("get", None), ("patch", {"name": "x"}), ("delete", None)):
        assert api(method, path, user="bob", body=body).status_code == 404
    assert api("post", f"{path}/check", user="bob").status_code == 404
    assert api("get", "/sources", user="bob").json()["items"] == []
    assert api("get", "/sources", user="staff").json()["count"] == 1
    assert api("get", path, user="staff").status_code == 200


def test_changing_and_deleting_keeps_the_videos(api, users):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Band")
    source = create(api).json()
    path = f"/sources/{source['id']}"
    changed = api("patch", path, body={"artist_id": artist.pk, "max_duration": 300}).json()
    assert (changed["artist_id"], changed["max_duration"], changed["name"]) == (artist.pk, 300, "")
    cleared = api("patch", path, body={"artist_id": None, "max_duration": None}).json()
    assert (cleared["artist_id"], cleared["max_duration"]) == (None, None)
    assert api("delete", path).status_code == 204
    assert not Source.objects.exists()
    assert Job.objects.get(kind="check_source").status == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        {"title_include": "("},
        {"title_exclude": "[a-"},
        {"title_include": "a" * 201},
        {"check_every": 4},
        {"check_every": int(HUGE)},
        {"max_duration": -1},
        {"published_after": "yesterday"},
        {"artist_id": int(HUGE)},
        {"profile": "no such profile"},
        {"name": "x" * 201},
    ],
)
def test_bad_sources_get_a_4xx_and_store_nothing(api, body):
    response = create(api, **body)
    assert 400 <= response.status_code < 500, response.content
    assert "detail" in response.json()
    assert not Source.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://127.0.0.1/feed"])
def test_bad_and_private_urls_are_refused(api, settings, url):
    settings.ALLOW_PRIVATE_URLS = False
    response = api("post", "/sources", body={"url": url})
    assert response.status_code == 400 and response.json()["detail"]


def test_following_an_artists_source_monitors_the_artist_once(api, users):
    artist = Artist.objects.named(users["alice"].pk, "Band")
    source = create(api, artist_id=artist.pk).json()
    artist.refresh_from_db()
    assert artist.monitored
    Artist.objects.filter(pk=artist.pk).update(monitored=False)  # switched off on purpose
    assert api("patch", f"/sources/{source['id']}", body={"check_every": 90}).status_code == 200
    artist.refresh_from_db()
    assert not artist.monitored


def test_another_owners_artist_is_refused(api, users):
    theirs = Artist.objects.named(users["bob"].pk, "Theirs")
    response = create(api, artist_id=theirs.pk)
    assert response.status_code == 400 and "artist" in response.json()["detail"]


@pytest.mark.parametrize("path", [f"/sources/{HUGE}", "/sources/0", f"/sources?page={HUGE}"])
def test_hostile_paths_get_a_4xx(api, path):
    assert 400 <= api("get", path).status_code < 500
    if "?" not in path:
        assert 400 <= api("post", f"{path}/check").status_code < 500
