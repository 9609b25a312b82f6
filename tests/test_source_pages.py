"""The Sources pages, in-process: the list and its add form, a source's page,
"Check now", editing and deleting; someone else's source is a 404."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.consumers import SUBJECT_RENDERERS
from jobs.models import Job
from sources.models import SeenEntry, Source
from tests.pagekit import HTMX, video_of
from videos.models import Artist, Video

URL = "https://videos.example.com/feed.xml"


def follow(user, url: str = URL, **fields) -> Source:
    return Source.objects.create(owner=user, url=url, **fields)


def found(source: Source, video) -> None:
    SeenEntry.objects.create(source=source, entry_key=str(video.pk), url=video.url, video=video)


def test_the_list_shows_your_sources_and_the_nav_links_it(client, users):
    follow(users["alice"], name="Mine")
    follow(users["bob"], name="Theirs")
    client.force_login(users["alice"])
    html = client.get("/sources/").content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert 'aria-current="page">Sources<' in html


def test_adding_a_source_queues_its_first_check_and_opens_its_page(client, users):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Band")
    client.force_login(alice)
    form = {"url": URL, "artist": artist.pk, "check_every": 60, "title_exclude": "live"}
    response = client.post("/sources/", {**form, "auto_download": "on"})
    source = Source.objects.get()
    assert response.status_code == 302 and response.url == f"/sources/{source.pk}/"
    assert (source.artist, source.check_every, source.title_exclude) == (artist, 60, "live")
    assert source.active_check().kind == "check_source"
    again = client.post("/sources/", form)
    assert again.status_code == 422 and "You already follow this URL" in again.content.decode()
    assert f'href="/sources/{source.pk}/"' in again.content.decode()


@pytest.mark.parametrize(
    "form",
    [
        {"url": URL, "check_every": 60, "title_include": "("},
        {"url": URL, "check_every": 10**30},
        {"url": "ftp://example.com/x", "check_every": 60},
        {"url": URL, "check_every": 60, "max_duration": -5},
    ],
)
def test_a_bad_form_is_a_422_and_follows_nothing(client, users, form):
    client.force_login(users["alice"])
    assert client.post("/sources/", form).status_code == 422
    assert not Source.objects.exists()


def test_another_owners_artist_is_not_offered_nor_taken(client, users):
    theirs = Artist.objects.named(users["bob"].pk, "Theirs")
    client.force_login(users["alice"])
    assert "Theirs" not in client.get("/sources/").content.decode()
    response = client.post("/sources/", {"url": URL, "check_every": 60, "artist": theirs.pk})
    assert response.status_code == 422 and not Source.objects.exists()


def test_a_sources_page_shows_its_check_and_the_videos_it_found(client, users):
    alice = users["alice"]
    source = follow(alice, name="Feed", last_result="1 new of 4")
    video = video_of(alice, title="Found It", artist="Band")
    video_of(alice, title="Not From Here")
    found(source, video)
    SeenEntry.objects.create(source=source, entry_key="x", url=URL + "#x", title="Skip Me",
                             skipped="title matches the exclude filter")  # fmt: skip
    client.force_login(alice)
    html = client.get(f"/sources/{source.pk}/").content.decode()
    assert "Found It" in html and "Not From Here" not in html
    assert f'id="video-{video.pk}"' in html and "1 new of 4" in html
    assert "Skip Me" in html and "remembered as seen" in html
    assert 'ws-connect="/ws/ui/?page=source&amp;since=' in html
    client.force_login(users["bob"])
    for path in ("", "edit/", "delete/"):
        assert client.get(f"/sources/{source.pk}/{path}").status_code == 404
    assert client.post(f"/sources/{source.pk}/check/").status_code == 404


def test_check_now_with_htmx_returns_the_live_check_and_never_two(client, users):
    source = follow(users["alice"])
    client.force_login(users["alice"])
    first = client.post(f"/sources/{source.pk}/check/", headers=HTMX)
    client.post(f"/sources/{source.pk}/check/", headers=HTMX)
    job = Job.objects.get(kind="check_source")
    html = first.content.decode()
    assert f'id="source-{source.pk}-live"' in html and f"progress-{job.pk}" in html
    assert "Check now" not in html
    assert client.post(f"/sources/{source.pk}/check/").status_code == 302


def test_the_socket_renders_a_source_only_on_its_page_and_for_its_owner(users):
    source = follow(users["alice"])
    render = SUBJECT_RENDERERS["source"]
    html = render(source.subject, users["alice"], "source")
    assert f'id="source-{source.pk}-live"' in html and 'hx-swap-oob="true"' in html
    assert f'id="source-{source.pk}-videos"' in html
    assert render(source.subject, users["alice"], "library") == ""
    assert render(source.subject, users["bob"], "source") == ""
    assert render(source.subject, users["staff"], "source")


def test_editing_moves_the_next_check_with_the_interval(client, users):
    source = follow(users["alice"], last_checked_at=timezone.now(), check_every=600)
    client.force_login(users["alice"])
    response = client.post(
        f"/sources/{source.pk}/edit/", {"check_every": 5, "name": "Renamed", "enabled": "on"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.name == "Renamed" and source.check_every == 5
    assert (source.next_check_at - source.last_checked_at).total_seconds() < 5 * 60 + 31
    bad = client.post(f"/sources/{source.pk}/edit/", {"check_every": 1})
    assert bad.status_code == 422


def test_deleting_asks_then_keeps_the_videos(client, users):
    alice = users["alice"]
    source = follow(alice, name="Going")
    video = video_of(alice, title="Stays")
    found(source, video)
    client.force_login(alice)
    assert "videos it found stay" in client.get(f"/sources/{source.pk}/delete/").content.decode()
    assert client.post(f"/sources/{source.pk}/delete/").status_code == 302
    assert not Source.objects.exists()
    assert Video.objects.filter(pk=video.pk).exists()


def test_an_artist_page_lists_the_artists_sources(client, users):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Band")
    source = follow(alice, name="Band Channel", artist=artist)
    follow(alice, URL + "?other", name="Unrelated")
    client.force_login(alice)
    html = client.get(f"/artists/{artist.pk}/").content.decode()
    assert f'href="/sources/{source.pk}/"' in html and "Unrelated" not in html
