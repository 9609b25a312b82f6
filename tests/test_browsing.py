"""Browsing a large library: search, filters, sort and pages, the same on the
Library page and in the API, with a number of queries that does not grow with
the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from videos.models import Artist, Video


def add(owner, title, artist="", **fields) -> Video:
    return Video.objects.create(
        owner=owner,
        url=f"https://example.com/{title}",
        title=title,
        artist=Artist.objects.named(owner.pk, artist),
        **fields,
    )


@pytest.fixture
def shelf(users):
    alice = users["alice"]
    return {
        "a": add(alice, "Alpha", "The Zebras", year=1999, duration=300, file_size=30),
        "b": add(
            alice,
            "bravo",
            "Abba",
            year=2005,
            duration=100,
            file="x/b.mp4",
            file_size=10,
            status="downloaded",
        ),  # fmt: skip
        "c": add(alice, "Charlie", "abba", duration=200, status="failed"),
        "d": add(alice, "Delta"),
        "bob": add(users["bob"], "Alpha Bob", "Abba"),
    }


def ids(response) -> list[str]:
    return [v["title"] for v in response.json()["items"]]


@pytest.mark.parametrize(
    "query, titles",
    [
        ("", ["Delta", "Charlie", "bravo", "Alpha"]),
        ("?q=alpha", ["Alpha"]),
        ("?q=ABBA", ["Charlie", "bravo"]),
        ("?status=failed", ["Charlie"]),
        ("?year=1999", ["Alpha"]),
        ("?has_file=true", ["bravo"]),
        ("?has_file=false", ["Delta", "Charlie", "Alpha"]),
        ("?artist=abba", ["Charlie", "bravo"]),
        ("?sort=title", ["Alpha", "bravo", "Charlie", "Delta"]),
        ("?sort=title&order=reverse", ["Delta", "Charlie", "bravo", "Alpha"]),
        # by sort name ("Zebras, The"), no artist last; then title
        ("?sort=artist", ["bravo", "Charlie", "Alpha", "Delta"]),
        ("?sort=year", ["bravo", "Alpha", "Delta", "Charlie"]),
        ("?sort=duration", ["Alpha", "Charlie", "bravo", "Delta"]),
        ("?sort=duration&order=reverse", ["bravo", "Charlie", "Alpha", "Delta"]),
        ("?sort=size", ["Alpha", "bravo", "Delta", "Charlie"]),
    ],
)
def test_the_api_searches_filters_and_sorts(api, shelf, query, titles):
    response = api("get", f"/videos{query}")
    assert response.status_code == 200, response.content
    assert ids(response) == titles


def test_the_api_filters_by_artist_id_and_pages(api, shelf):
    abba = shelf["b"].artist
    assert ids(api("get", f"/videos?artist_id={abba.pk}&sort=title")) == ["bravo", "Charlie"]
    first = api("get", "/videos?sort=title&page_size=3").json()
    second = api("get", "/videos?sort=title&page_size=3&page=2").json()
    assert first["count"] == 4
    assert [v["title"] for v in first["items"] + second["items"]] == [
        "Alpha", "bravo", "Charlie", "Delta"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    ["?sort=bogus", "?status=nope", "?order=sideways", "?year=99999", "?has_file=maybe",
     f"?q={'x' * 201}", "?artist_id=0", "?year=1" + "0" * 30],
)  # fmt: skip
def test_bad_browse_parameters_get_a_422_from_the_api(api, shelf, query):
    assert api("get", f"/videos{query}").status_code == 422


def test_the_library_page_searches_sorts_and_shows_a_grid(client, users, shelf):
    client.force_login(users["alice"])
    page = client.get("/?q=abba&sort=title&view=grid").content.decode()
    assert page.index(">bravo<") < page.index(">Charlie<")
    assert "Alpha<" not in page and 'class="grid-view"' in page
    assert "2 videos" in page and 'id="clear-filters"' in page
    abba = shelf["b"].artist
    page = client.get(f"/?artist={abba.pk}").content.decode()
    assert f'<input type="hidden" name="artist" value="{abba.pk}">' in page
    assert ">bravo<" in page and ">Alpha<" not in page


@pytest.mark.parametrize(
    "query", ["?sort=bogus", "?status=nope", "?year=abc", "?artist=99999999999999999999999",
              "?q=%00", "?page=99999", "?view=../../etc"],
)  # fmt: skip
def test_the_library_page_ignores_what_does_not_fit(client, users, shelf, query):
    client.force_login(users["alice"])
    response = client.get(f"/{query}")
    assert response.status_code == 200
    assert b'id="video-rows"' in response.content


def test_another_users_artist_filters_to_nothing(client, users, shelf):
    client.force_login(users["bob"])
    abba = shelf["b"].artist
    page = client.get(f"/?artist={abba.pk}").content.decode()
    assert "Alpha" not in page and "Charlie" not in page


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("path", ["/", "/?view=grid&sort=artist", "/artists/{artist}/"])
def test_a_page_costs_the_same_queries_whatever_its_size(client, users, path):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Many")
    client.force_login(alice)
    for n, status in enumerate(["wanted", "downloaded", "failed"]):  # every kind of row
        add(alice, f"first {n}", "Many", status=status)
    path = path.format(artist=artist.pk)
    small = _queries(client, path)
    Video.objects.bulk_create(
        [
            Video(
                owner=alice,
                url=f"https://example.com/{n}",
                title=f"v{n}",
                artist=artist,
                status=["wanted", "downloaded", "failed"][n % 3],
            )  # fmt: skip
            for n in range(120)
        ]
    )
    assert _queries(client, path) <= small  # a full page costs no more than a small one
