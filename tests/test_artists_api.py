"""``/api/artists`` in process: create, list, read, change; who sees what;
hostile input gets a 4xx; a video names its artist by ``artist_id``."""

from __future__ import annotations

import pytest

from tests.pagekit import video_of
from videos.models import Artist, Video

URL = "http://127.0.0.1:9/clip.mp4"
HUGE = "99999999999999999999999"


def test_an_artist_is_created_read_and_listed(api):
    body = {"name": "The Cure", "monitored": True, "imvdb_id": 123}
    created = api("post", "/artists", body=body)
    assert created.status_code == 201, created.content
    artist = created.json()
    assert artist["sort_name"] == "Cure, The"
    assert (artist["monitored"], artist["auto_download"], artist["imvdb_id"]) == (True, False, 123)
    assert artist["video_count"] == 0
    assert api("get", f"/artists/{artist['id']}").json() == artist
    listed = api("get", "/artists").json()
    assert listed["count"] == 1 and listed["items"] == [artist]


def test_the_list_is_by_sort_name_searchable_and_counts_videos(api, users):
    for name in ("Zappa", "The Beatles", "ABBA"):
        api("post", "/artists", body={"name": name})
    video_of(users["alice"], "Help!", artist="the beatles")
    items = api("get", "/artists").json()["items"]
    assert [a["name"] for a in items] == ["ABBA", "The Beatles", "Zappa"]
    assert [a["video_count"] for a in items] == [0, 1, 0]
    found = api("get", "/artists?q=beat").json()["items"]
    assert [a["name"] for a in found] == ["The Beatles"]


def test_a_name_you_already_have_in_any_case_is_a_conflict(api):
    first = api("post", "/artists", body={"name": "ABBA"}).json()
    again = api("post", "/artists", body={"name": "abba "})
    assert again.status_code == 409
    assert f"id {first['id']}" in again.json()["detail"]
    other = api("post", "/artists", body={"name": "Other"}).json()
    renamed = api("patch", f"/artists/{other['id']}", body={"name": "Abba"})
    assert renamed.status_code == 409
    assert api("post", "/artists", user="bob", body={"name": "ABBA"}).status_code == 201


def test_an_artist_is_changed_field_by_field(api):
    artist = api("post", "/artists", body={"name": "Cure", "imvdb_id": 5}).json()
    path = f"/artists/{artist['id']}"
    changed = api("patch", path, body={"name": "The Cure", "auto_download": True}).json()
    assert (changed["name"], changed["sort_name"]) == ("The Cure", "Cure, The")
    assert changed["auto_download"] and changed["imvdb_id"] == 5
    changed = api("patch", path, body={"sort_name": "Cure", "image": "https://img.example/c.jpg"})
    assert changed.json()["sort_name"] == "Cure"
    assert changed.json()["image"] == "https://img.example/c.jpg"
    cleared = api("patch", path, body={"imvdb_id": None, "image": "The Cure/folder.jpg"}).json()
    assert cleared["imvdb_id"] is None and cleared["image"] == "The Cure/folder.jpg"
    assert api("patch", path, body={}).json() == cleared


def test_another_users_artist_is_not_found_and_staff_see_all(api, users):
    bobs = api("post", "/artists", user="bob", body={"name": "Bob's Band"}).json()
    assert api("get", f"/artists/{bobs['id']}").status_code == 404
    assert api("patch", f"/artists/{bobs['id']}", body={"monitored": True}).status_code == 404
    assert api("get", "/artists").json()["count"] == 0
    assert api("get", f"/artists/{bobs['id']}", user="staff").status_code == 200
    assert api("get", "/artists", user="staff").json()["count"] == 1
    assert not Artist.objects.get(pk=bobs["id"]).monitored


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "\x00\x01"},
        {"name": "x" * 201},
        {"name": 5},
        {"name": "A", "sort_name": "s" * 201},
        {"name": "A", "imvdb_id": 0},
        {"name": "A", "imvdb_id": int(HUGE)},
        {"name": "A", "imvdb_id": 2**63},
        {"name": "A", "monitored": "perhaps"},
        {"name": "A", "image": "javascript:alert(1)"},
        {"name": "A", "image": "file:///etc/passwd"},
        {"name": "A", "image": "/etc/passwd"},
        {"name": "A", "image": "../../etc/passwd"},
        {"name": "A", "image": "C:\\x.jpg"},
        {"name": "A", "image": "https://x/\x00.jpg"},
        {"name": "A", "image": "https://x/" + "a" * 3000},
    ],
)
def test_bad_artists_get_a_4xx_and_store_nothing(api, body):
    response = api("post", "/artists", body=body)
    assert 400 <= response.status_code < 500, response.content
    assert "detail" in response.json()
    assert not Artist.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        f"/artists/{HUGE}",
        "/artists/-1",
        "/artists/0",
        f"/artists?page={HUGE}",
        "/artists?page=-1",
        "/artists?page_size=100000",
        "/artists?q=" + "q" * 300,
        f"/videos?artist_id={HUGE}",
        "/videos?artist_id=0",
    ],
)
def test_hostile_urls_get_a_4xx(api, path):
    assert 400 <= api("get", path).status_code < 500


def test_hostile_changes_get_a_4xx(api):
    artist = api("post", "/artists", body={"name": "A"}).json()
    for body in ({"name": ""}, {"name": None, "imvdb_id": -5}, {"image": "/abs"}):
        response = api("patch", f"/artists/{artist['id']}", body=body)
        assert 400 <= response.status_code < 500, body
    assert api("patch", f"/artists/{HUGE}", body={"name": "B"}).status_code == 404
    assert api("patch", f"/artists/{artist['id']}", raw="{").status_code < 500
    assert Artist.objects.get().name == "A"


def test_a_nul_in_a_search_is_harmless(api):
    assert api("get", "/artists?q=a%00b").status_code == 200


def test_adding_a_video_with_an_artist_attaches_or_creates_it(api, users):
    first = api("post", "/videos", body={"url": URL, "artist": "New Band"}).json()
    assert first["artist"] == "New Band" and first["artist_id"]
    second = api("post", "/videos", body={"url": URL + "?2", "artist": "NEW BAND"}).json()
    assert second["artist_id"] == first["artist_id"]
    assert second["artist"] == "New Band"
    plain = api("post", "/videos", body={"url": URL + "?3"}).json()
    assert plain["artist"] == "" and plain["artist_id"] is None
    got = api("get", f"/videos/{first['id']}").json()
    assert (got["artist"], got["artist_id"]) == ("New Band", first["artist_id"])
    artist = Artist.objects.get()
    assert artist.owner == users["alice"] and artist.videos.count() == 2


def test_videos_are_listed_by_artist_name_or_id(api, users, django_assert_max_num_queries):
    alice = users["alice"]
    for i in range(3):
        video_of(alice, f"Song {i}", artist="Band")
    video_of(alice, "Other", artist="Else")
    video_of(users["bob"], "Bob's", artist="Band")
    band = Artist.objects.get(owner=alice, name="Band")
    by_name = api("get", "/videos?artist=band").json()
    assert by_name["count"] == 3 and {v["artist"] for v in by_name["items"]} == {"Band"}
    by_id = api("get", f"/videos?artist_id={band.pk}").json()
    assert by_id["items"] == by_name["items"]
    assert {v["artist_id"] for v in by_id["items"]} == {band.pk}
    assert api("get", "/videos?q=else").json()["count"] == 1
    with django_assert_max_num_queries(6):  # the key, the count, the page (artists joined)
        assert api("get", "/videos").json()["count"] == 4
    assert Video.objects.count() == 5
