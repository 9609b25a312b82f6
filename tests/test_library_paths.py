"""Files land only where the app says, whatever the names look like."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.pagekit import video_of
from videos.models import Artist, Video, safe_name


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        ".",
        "a/../../b",
        "C:\\Windows\\x",
        "nul\x00byte",
        "  ",
        "ok",
    ],
)
def test_hostile_names_stay_one_path_component(name):
    cleaned = safe_name(name, "fallback")
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert cleaned not in ("", ".", "..")


def test_long_names_are_cut():
    assert len(safe_name("x" * 1000, "f")) == 80


@pytest.mark.parametrize(
    ("artist", "title", "source_id"),
    [
        ("../../..", "../../etc/passwd", "../x"),
        ("", "", ""),
        ("AC/DC", "Back In Black", "abc"),
        ("Sigur Rós", "Hoppípolla", "id:1"),
    ],
)
@pytest.mark.django_db
def test_the_library_path_is_always_inside_the_library(artist, title, source_id):
    video = Video(pk=7, artist=Artist(name=artist), title=title, source_id=source_id)
    path = video.library_path("mp4")
    assert path.is_relative_to(settings.LIBRARY_DIR)
    assert path.parent.parent == settings.LIBRARY_DIR
    assert path.name.endswith(".mp4")


@pytest.mark.django_db
def test_the_layout_is_artist_folder_then_artist_dash_title():
    video = Video(pk=3, artist=Artist(name="AC/DC"), title="Thunderstruck", source_id="v1")
    assert video.library_path("mkv").relative_to(settings.LIBRARY_DIR).as_posix() == (
        "AC DC/AC DC - Thunderstruck [v1].mkv"
    )


def test_two_videos_with_the_same_source_id_get_separate_files(users):
    first, second = (
        video_of(users[name], "T", artist="A", url=f"http://{name}/1", source_id="x")
        for name in ("alice", "bob")
    )
    first.mark_downloaded(first.library_path("mp4"), 1, {})
    assert second.library_path("mp4") != first.library_path("mp4")
    assert second.library_path("mp4").name == f"A - T [x-{second.pk}].mp4"
