"""The Artists pages, in process: the index with its counts, an artist's page
with its videos and buttons, who sees what, and queries that do not grow
with the number of videos. The broker is a stub nobody consumes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.consumers import SUBJECT_RENDERERS
from jobs.models import Job
from tests.pagekit import job_of, row_html, video_of
from videos.models import Artist

HUGE = "99999999999999999999999"


def _artist(user, name="Band") -> Artist:
    return Artist.objects.named(user.pk, name)


def _queries(client, path: str) -> int:
    """Queries of one GET, after a first one that warms what is done once
    per process (the first-run check)."""
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


# -- the index ------------------------------------------------------------------


def test_the_index_lists_your_artists_with_their_counts(client, users):
    alice = users["alice"]
    for status in ("wanted", "wanted", "downloaded", "failed"):
        video_of(alice, artist="The Band", status=status)
    _artist(alice, "ABBA")
    _artist(users["bob"], "Bob's Band")
    client.force_login(alice)
    html = client.get("/artists/").content.decode()
    assert "Bob&#x27;s Band" not in html
    assert html.index(">ABBA<") < html.index(">The Band<")  # by sort name: "Band, The"
    band = Artist.objects.get(name="The Band")
    row = html[html.index(f'id="artist-{band.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/artists/{band.pk}/"' in row
    assert '<td class="count">4</td>' in row
    assert "2 wanted" in row and "1 downloaded" in row and "1 failed" in row
    assert 'aria-current="page">Artists<' in html


def test_the_index_sorts_by_name_either_way_by_videos_and_by_age(client, users):
    alice = users["alice"]
    for name, videos in (("Beta", 1), ("alpha", 0), ("Gamma", 3)):
        artist = _artist(alice, name)
        for _ in range(videos):
            video_of(alice, artist=artist.name)
    client.force_login(alice)

    def order(query: str) -> list[str]:
        html = client.get(f"/artists/{query}").content.decode()
        return sorted(("alpha", "Beta", "Gamma"), key=lambda n: html.index(f">{n}<"))

    assert order("") == order("?sort=name") == ["alpha", "Beta", "Gamma"]
    assert order("?sort=-name") == ["Gamma", "Beta", "alpha"]
    assert order("?sort=videos") == ["Gamma", "Beta", "alpha"]
    assert order("?sort=added") == ["Gamma", "alpha", "Beta"]
    assert order("?sort=%00bogus") == ["alpha", "Beta", "Gamma"]


def test_staff_see_every_artist(client, users):
    _artist(users["alice"], "Alice Band")
    _artist(users["bob"], "Bob Band")
    client.force_login(users["staff"])
    html = client.get("/artists/").content.decode()
    assert "Alice Band" in html and "Bob Band" in html


def test_an_empty_index_says_where_artists_come_from(client, users):
    client.force_login(users["alice"])
    assert 'id="no-artists"' in client.get("/artists/").content.decode()


def test_the_index_costs_the_same_queries_for_one_artist_or_many(client, users):
    alice = users["alice"]
    client.force_login(alice)
    video_of(alice, artist="First")
    one = _queries(client, "/artists/")
    for i in range(30):
        video_of(alice, artist=f"Artist {i}", status="failed" if i % 2 else "wanted")
    assert _queries(client, "/artists/") == one


@pytest.mark.parametrize("path", [f"/artists/?page={HUGE}", "/artists/?page=-1", "/artists/?x=\0"])
def test_odd_index_urls_are_no_server_error(client, users, path):
    client.force_login(users["alice"])
    assert client.get(path).status_code == 200


# -- an artist's page ----------------------------------------------------------------


def test_the_artist_page_shows_its_videos_and_counts_by_status(client, users):
    alice = users["alice"]
    done = video_of(
        alice, "Hit", artist="Band", status="downloaded", file="Band/Band - Hit [x].mp4"
    )
    wanted = video_of(alice, "Deep Cut", artist="Band", thumbnail_url="https://i.example/t.jpg")
    video_of(alice, "Not Theirs", artist="Other")
    client.force_login(alice)
    artist = done.artist
    html = client.get(f"/artists/{artist.pk}/").content.decode()
    assert "<h1>Band</h1>" in html and "2 videos" in html
    assert "Hit" in html and "Deep Cut" in html and "Not Theirs" not in html
    assert 'ws-connect="/ws/ui/?page=artist&amp;since=' in html
    assert "Wanted <small" in html and "Downloaded <small" in html
    row = row_html(html, f"video-{wanted.pk}")
    # Until its thumbnails are made, a placeholder (the source's picture is never hot-linked).
    assert f'id="video-{wanted.pk}-thumb"' in row and "thumb placeholder" in row
    assert f'action="/videos/{wanted.pk}/download/"' in row
    assert "thumb placeholder" in row_html(html, f"video-{done.pk}")  # the slot, empty
    assert "Download wanted (1)" in html
    filtered = client.get(f"/artists/{artist.pk}/?status=downloaded").content.decode()
    assert "Hit" in filtered and "Deep Cut" not in filtered


def test_the_artist_page_costs_the_same_queries_for_one_video_or_many(client, users):
    alice = users["alice"]
    client.force_login(alice)
    first = video_of(alice, "First", artist="Band")
    path = f"/artists/{first.artist_id}/"
    one = _queries(client, path)
    for i in range(40):
        video = video_of(alice, f"Song {i}", artist="Band", status="wanted")
        if i % 3 == 0:
            job_of(alice, video, status="running", percent=10.0)
    assert _queries(client, path) == one


def test_another_users_artist_page_is_not_found(client, users):
    bobs = _artist(users["bob"], "Bob's Band")
    client.force_login(users["alice"])
    assert client.get(f"/artists/{bobs.pk}/").status_code == 404
    assert client.post(f"/artists/{bobs.pk}/toggle/", {"field": "monitored"}).status_code == 404
    assert client.post(f"/artists/{bobs.pk}/download-wanted/").status_code == 404
    assert client.get(f"/artists/{HUGE}/").status_code == 404
    client.force_login(users["staff"])
    assert client.get(f"/artists/{bobs.pk}/").status_code == 200
    assert not Artist.objects.get(pk=bobs.pk).monitored


def test_the_pages_need_a_login(client, users):
    artist = _artist(users["alice"])
    for path in ("/artists/", f"/artists/{artist.pk}/"):
        assert client.get(path)["Location"].startswith("/login/")


def test_monitored_and_auto_download_toggle(client, users):
    artist = _artist(users["alice"])
    client.force_login(users["alice"])
    path = f"/artists/{artist.pk}/toggle/"
    assert client.get(path).status_code == 405
    response = client.post(path, {"field": "monitored"})
    assert response.status_code == 302 and response["Location"] == f"/artists/{artist.pk}/"
    client.post(path, {"field": "auto_download"})
    client.post(path, {"field": "name"})  # not a toggle: nothing happens
    artist.refresh_from_db()
    assert (artist.monitored, artist.auto_download, artist.name) == (True, True, "Band")
    html = client.get(f"/artists/{artist.pk}/").content.decode()
    assert "Monitored: on" in html and "Auto-download: on" in html
    client.post(path, {"field": "monitored"})
    artist.refresh_from_db()
    assert not artist.monitored


def test_download_wanted_queues_one_batch_of_the_wanted_and_failed_videos(client, users):
    alice = users["alice"]
    wanted = video_of(alice, "W", artist="Band")
    failed = video_of(alice, "F", artist="Band", status="failed")
    video_of(alice, "D", artist="Band", status="downloaded")
    video_of(alice, "Other", artist="Other")
    client.force_login(alice)
    response = client.post(f"/artists/{wanted.artist_id}/download-wanted/", follow=True)
    assert "Queued 2 download(s) of Band." in response.content.decode()
    parent = Job.objects.get(kind="bulk_download_videos")
    children = Job.objects.filter(parent=parent)
    assert {c.params["video_id"] for c in children} == {wanted.pk, failed.pk}
    assert parent.owner == alice


def test_download_wanted_with_nothing_to_fetch_says_so(client, users):
    video = video_of(users["alice"], "D", artist="Band", status="downloaded")
    client.force_login(users["alice"])
    response = client.post(f"/artists/{video.artist_id}/download-wanted/", follow=True)
    assert "has no wanted or failed videos" in response.content.decode()
    assert not Job.objects.exists()


# -- the Library and the live rows ---------------------------------------------------


def test_the_library_and_video_page_link_the_artist(client, users):
    video = video_of(users["alice"], "Song", artist="Band")
    nobody = video_of(users["alice"], "Orphan")
    client.force_login(users["alice"])
    html = client.get("/").content.decode()
    link = f'href="/artists/{video.artist_id}/">Band</a>'
    assert link in row_html(html, f"video-{video.pk}")
    assert "Unknown artist" in row_html(html, f"video-{nobody.pk}")
    assert link in client.get(f"/videos/{video.pk}/").content.decode()


def test_the_artist_page_gets_the_library_rows_live_part(users):
    video = video_of(users["alice"], "Song", artist="Band")
    job_of(users["alice"], video, status="running", percent=55.0)
    html = SUBJECT_RENDERERS["video"](video.subject, users["alice"], "artist")
    for part in ("thumb", "what", "state", "actions"):  # every cell but the checkbox
        assert f'id="video-{video.pk}-{part}"' in html
    assert html.count('hx-swap-oob="true"') == 4
    assert '<progress value="55.0"' in html
    # Someone else learns nothing of it: at most that such a row is not theirs to show.
    other = SUBJECT_RENDERERS["video"](video.subject, users["bob"], "artist")
    assert "Song" not in other and "progress" not in other and "Band" not in other


# -- the admin ----------------------------------------------------------------------


@pytest.fixture
def admin_client(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    client.force_login(users["staff"])
    return client


def test_the_admin_lists_artists_with_counts_in_constant_queries(admin_client, users):
    video_of(users["alice"], artist="Band")
    video_of(users["alice"], artist="Band")
    one = _queries(admin_client, "/admin/videos/artist/")
    html = admin_client.get("/admin/videos/artist/").content.decode()
    assert '<td class="field-video_count">2</td>' in html
    for i in range(20):
        video_of(users["bob"], artist=f"Bob Artist {i}")
    assert _queries(admin_client, "/admin/videos/artist/") == one
    found = admin_client.get("/admin/videos/artist/?q=bob+artist+1").content.decode()
    assert "Bob Artist 1" in found and ">Band<" not in found
    ordered = admin_client.get("/admin/videos/artist/?o=4").status_code  # by video count
    assert ordered == 200


def test_the_admin_refuses_a_video_on_another_owners_artist(admin_client, users):
    video = video_of(users["alice"], "Song", artist="Band")
    bobs = _artist(users["bob"], "Bob's Band")
    form = {
        "owner": users["alice"].pk,
        "url": video.url,
        "title": "Song",
        "artist": bobs.pk,
        "status": "wanted",
        "metadata": "{}",
        "created_at_0": "2026-01-01",
        "created_at_1": "00:00:00",
    }
    response = admin_client.post(f"/admin/videos/video/{video.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "another owner" in response.content.decode()
    video.refresh_from_db()
    assert video.artist.name == "Band"


def test_the_pages_of_the_index_keep_its_sort(client, users):
    Artist.objects.bulk_create(
        Artist(owner=users["alice"], name=f"Artist {i:02}", sort_name=f"Artist {i:02}", key=f"a{i}")
        for i in range(55)
    )
    client.force_login(users["alice"])
    html = client.get("/artists/?sort=-name").content.decode()
    assert 'href="?sort=-name&amp;page=2" rel="next">Next →' in html
    assert ">Artist 54<" in html and ">Artist 00<" not in html
    html = client.get("/artists/?sort=-name&page=2").content.decode()
    assert ">Artist 00<" in html and "Page 2 of 2" in html
