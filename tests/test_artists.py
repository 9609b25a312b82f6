"""Artists: one per name and owner whatever the case, made where titles are
filled (metadata, playlist entries, a user's own artist), the migration that
moved the videos onto them, and a real download filed under its artist."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from jobs.models import Job
from tests.apikit import add_video, finished, unique
from tests.pagekit import video_of
from videos.models import Artist, Video, name_key, sort_name
from videos.tasks import start_bulk_download

URL = "https://videos.example.com/watch"

# -- the model ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sorted_as"),
    [
        ("The Beatles", "Beatles, The"),
        ("A Tribe Called Quest", "Tribe Called Quest, A"),
        ("An Horse", "Horse, An"),
        ("the   xx", "xx, the"),
        ("The", "The"),
        ("Theory of a Deadman", "Theory of a Deadman"),
        ("ABBA", "ABBA"),
    ],
)
def test_a_leading_article_sorts_last(name, sorted_as):
    assert sort_name(name) == sorted_as


def test_names_differing_only_in_case_width_or_spacing_are_one_artist(users):
    alice = users["alice"]
    abba = Artist.objects.named(alice.pk, "ABBA")
    for same in ("abba", " Abba ", "ＡＢＢＡ", "abba\x00", "\tABBA\n"):
        assert Artist.objects.named(alice.pk, same) == abba
    assert Artist.objects.named(users["bob"].pk, "ABBA") != abba  # per owner
    assert Artist.objects.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Artist.objects.create(owner=alice, name="abba")


def test_no_name_is_no_artist(users):
    assert Artist.objects.named(users["alice"].pk, "") is None
    assert Artist.objects.named(users["alice"].pk, " \x00\t ") is None
    with pytest.raises(ValueError):
        Artist.objects.create(owner=users["alice"], name="\x00")
    assert not Artist.objects.exists()


def test_the_sort_name_is_made_kept_when_edited_and_follows_a_rename(users):
    artist = Artist.objects.create(owner=users["alice"], name="The Cure")
    assert artist.sort_name == "Cure, The"
    artist = Artist.objects.get(pk=artist.pk)
    artist.name = "The Smiths"
    artist.save()
    assert artist.sort_name == "Smiths, The"  # it was the made one: it follows
    artist.sort_name = "Smiths"
    artist.save()
    artist = Artist.objects.get(pk=artist.pk)
    artist.name = "The Smiths (UK)"
    artist.save()
    assert artist.sort_name == "Smiths"  # someone's own: kept


def test_names_are_found_and_made_in_bulk(users, django_assert_max_num_queries):
    alice = users["alice"].pk
    Artist.objects.named(alice, "Known")
    names = ["known", "New One", "new one", "Other", "", "\x00"]
    with django_assert_max_num_queries(3):
        found = Artist.objects.for_names(alice, names)
    assert sorted(found) == [name_key(n) for n in ("Known", "New One", "Other")]
    assert found[name_key("New One")].name == "New One"  # the first spelling
    assert Artist.objects.count() == 3


def test_counts_by_status_come_with_the_artist(users):
    alice = users["alice"]
    for status in ("wanted", "wanted", "failed", "downloaded"):
        video_of(alice, artist="Band", status=status)
    artist = Artist.objects.with_counts().get()
    assert artist.video_count == 4
    assert artist.status_counts == [
        ("wanted", "Wanted", 2),
        ("downloaded", "Downloaded", 1),
        ("failed", "Failed", 1),
    ]


# -- where titles are filled ---------------------------------------------------


def test_metadata_splits_the_title_and_attaches_the_artist(users):
    video = Video.objects.add(users["alice"], f"{URL}?v=1")[0]
    video.apply_info({"id": "x", "title": "Band - Song ft. Guest (Official Video)"})
    video.refresh_from_db()
    assert (video.artist_name, video.title) == ("Band", "Song ft. Guest")
    assert video.artist.owner == users["alice"]


def test_what_the_user_gave_wins_over_the_metadata(users):
    alice = users["alice"]
    video = Video.objects.add(alice, f"{URL}?v=1", title="My Title", artist="My Artist")[0]
    video.apply_info({"title": "Band - Song", "artist": "Band", "track": "Song"})
    video.refresh_from_db()
    assert (video.artist_name, video.title) == ("My Artist", "My Title")
    only_artist = Video.objects.add(alice, f"{URL}?v=2", artist="my artist")[0]
    only_artist.apply_info({"title": "Band - Song (Official Video)"})
    only_artist.refresh_from_db()
    assert only_artist.artist == video.artist  # the same artist, found in any case
    assert only_artist.title == "Song"


def test_adding_a_known_url_again_makes_no_artist(users):
    Video.objects.add(users["alice"], f"{URL}?v=1")
    Video.objects.add(users["alice"], f"{URL}?v=1", artist="Someone Else")
    assert not Artist.objects.exists()


def test_playlist_entries_get_their_artists_in_bulk(api, users):
    response = api("post", "/jobs", body={"kind": "download_playlist", "url": f"{URL}?list"})
    job = Job.objects.get(pk=response.json()["id"])
    entries = [
        {"url": f"{URL}?v=1", "title": "Band - One (Official Video)"},
        {"url": f"{URL}?v=2", "title": "BAND - Two [HD]"},
        {"url": f"{URL}?v=3", "title": "Three", "uploader": "SoloVEVO"},
        {"url": f"{URL}?v=4", "title": "Four", "artist": "Band", "track": "Four (Live)"},
        {"url": f"{URL}?v=5", "title": "Nobody's"},
    ]
    job.spec.received(job, entries)
    found = {v.url[-1]: (v.artist_name, v.title) for v in Video.objects.select_related("artist")}
    assert found == {
        "1": ("Band", "One"),
        "2": ("Band", "Two"),
        "3": ("Solo", "Three"),
        "4": ("Band", "Four (Live)"),
        "5": ("", "Nobody's"),
    }
    assert sorted(Artist.objects.values_list("name", flat=True)) == ["Band", "Solo"]


def test_a_bulk_download_names_its_videos_artists_in_one_query(users):
    """Each child job's label is "Artist - Title": the artists come in one
    query, however many videos there are."""
    alice = users["alice"]

    for i in range(40):
        video_of(alice, f"Song {i}", artist=f"Artist {i}")
    videos = list(Video.objects.all())
    with CaptureQueriesContext(connection) as captured:
        start_bulk_download(alice, videos)
    assert sum('FROM "videos_artist"' in q["sql"] for q in captured) == 1
    assert set(Job.objects.filter(parent__isnull=False).values_list("label", flat=True)) >= {
        "Artist 0 - Song 0",
        "Artist 39 - Song 39",
    }


# -- the migration ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_videos_onto_artists():
    """Run for real: back to the migration before, videos with artist names,
    then forward through it (and back again, which restores the names)."""
    executor = MigrationExecutor(connection)
    migrations = executor.loader.disk_migrations
    target = next(key for key in migrations if key[0] == "videos" and key[1].endswith("_artists"))
    parents = executor.loader.graph.node_map[target].parents
    before = [next(p.key for p in parents if p.key[0] == "videos")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        User, OldVideo = old.get_model("auth", "User"), old.get_model("videos", "Video")
        alice = User.objects.create(username="alice")
        bob = User.objects.create(username="bob")
        rows = [
            (alice, "ABBA"),
            (alice, "Abba"),
            (alice, "Abba"),
            (alice, "The Cure"),
            (alice, ""),
            (alice, " \x01 "),
            (bob, "abba"),
        ]
        for i, (owner, name) in enumerate(rows):
            OldVideo.objects.create(owner=owner, url=f"{URL}?v={i}", artist=name)

        executor = MigrationExecutor(connection)
        executor.migrate([target])
        new = executor.loader.project_state([target]).apps
        NewArtist, NewVideo = new.get_model("videos", "Artist"), new.get_model("videos", "Video")
        artists = {(a.owner_id, a.name, a.sort_name, a.key) for a in NewArtist.objects.all()}
        assert artists == {
            (alice.pk, "Abba", "Abba", "abba"),  # the spelling most of its videos use
            (alice.pk, "The Cure", "Cure, The", "the cure"),
            (bob.pk, "abba", "abba", "abba"),
        }
        moved = {
            v.url[-1]: (v.artist.owner_id, v.artist.name) if v.artist else None
            for v in NewVideo.objects.select_related("artist")
        }
        assert moved == {
            "0": (alice.pk, "Abba"),
            "1": (alice.pk, "Abba"),
            "2": (alice.pk, "Abba"),
            "3": (alice.pk, "The Cure"),
            "4": None,
            "5": None,
            "6": (bob.pk, "abba"),
        }

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        back = executor.loader.project_state(before).apps.get_model("videos", "Video")
        assert sorted(back.objects.values_list("artist", flat=True)) == sorted(
            ["Abba", "Abba", "Abba", "The Cure", "", "", "abba"]
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# -- a real download ---------------------------------------------------------------


def test_a_download_is_filed_under_the_artist_its_title_names(embedded_app, media):
    client = embedded_app.client("alice")
    title = quote("Nova Band - Bright Song (Official Video) [HD]")
    video = add_video(client, media.url(unique(f"page/clip.html?title={title}")))
    assert finished(client, video["job_id"])["status"] == "succeeded"
    started = client.post(f"/api/videos/{video['id']}/download").json()
    assert finished(client, started["job_id"])["status"] == "succeeded"
    video = client.get(f"/api/videos/{video['id']}").json()
    assert (video["artist"], video["title"]) == ("Nova Band", "Bright Song")
    assert video["artist_id"]
    path = Path(video["file"])
    assert path.parent.as_posix() == "Nova Band"
    assert path.name.startswith("Nova Band - Bright Song [clip-1") and path.suffix == ".mp4"
    assert (embedded_app.data_dir / "library" / path).is_file()
    artist = client.get(f"/api/artists/{video['artist_id']}").json()
    assert artist["name"] == "Nova Band" and artist["video_count"] >= 1
