"""Editing a video's metadata: saved at once, and its files (video, NFO,
thumbnail) renamed by a job after the library's naming rule, inside the
library and never over another file."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings

from jobs.models import Job
from tests.apikit import download, finished, unique
from tests.live import load_settings
from tests.media import DEFAULT_CACHE
from videos.editing import RenameVideo, edit_video
from videos.media import thumb_beside
from videos.models import Artist, Video


def filed_video(owner, artist="Old Artist", title="Old Title") -> Video:
    """A downloaded video with its file, NFO and thumbnail in the library."""
    video = Video.objects.create(
        owner=owner,
        url=f"https://example.com/{uuid.uuid4().hex}",
        title=title,
        artist=Artist.objects.named(owner.pk, artist),
        source_id=uuid.uuid4().hex[:12],
    )
    target = next(video.library_candidates("mp4"))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_CACHE / "clip.mp4", target)
    video.write_nfo(target.with_suffix(".nfo"))
    thumb_beside(target).write_bytes(b"jpeg")
    video.mark_downloaded(target, target.stat().st_size, {"duration": 2.0})
    return video


def run_rename(job: Job) -> dict:
    return RenameVideo().run_inline(job)


def test_an_edit_renames_the_file_its_nfo_and_thumbnail(users, media):
    video = filed_video(users["alice"])
    old = settings.LIBRARY_DIR / video.file
    job = edit_video(
        video, {"artist": "New Artist", "title": "New Title", "year": 1999}, users["alice"]
    )
    assert job is not None and job.kind == "rename_video"
    result = run_rename(job)
    new = settings.LIBRARY_DIR / result["file"]
    assert (
        new
        == settings.LIBRARY_DIR / "New Artist" / f"New Artist - New Title [{video.source_id}].mp4"
    )
    assert new.is_file() and thumb_beside(new).read_bytes() == b"jpeg"
    assert (
        not old.exists() and not old.with_suffix(".nfo").exists() and not thumb_beside(old).exists()
    )
    nfo = ET.parse(new.with_suffix(".nfo")).getroot()
    assert (nfo.findtext("title"), nfo.findtext("artist"), nfo.findtext("year")) == (
        "New Title",
        "New Artist",
        "1999",
    )
    video.refresh_from_db()
    assert video.file == str(new.relative_to(settings.LIBRARY_DIR))
    assert video.artist.name == "New Artist"


def test_an_edit_never_takes_another_files_name(users, media):
    video = filed_video(users["alice"], title="Before")
    squatter = settings.LIBRARY_DIR / "Old Artist" / f"Old Artist - After [{video.source_id}].mp4"
    squatter.write_bytes(b"someone else's")
    result = run_rename(edit_video(video, {"title": "After"}, users["alice"]))
    assert squatter.read_bytes() == b"someone else's"
    assert result["file"] == f"Old Artist/Old Artist - After [{video.source_id}-{video.pk}].mp4"


def test_an_edit_that_keeps_the_name_only_writes_the_nfo(users, media):
    video = filed_video(users["alice"])
    before = video.file
    run_rename(edit_video(video, {"director": "Someone"}, users["alice"]))
    video.refresh_from_db()
    assert video.file == before
    nfo = ET.parse((settings.LIBRARY_DIR / before).with_suffix(".nfo")).getroot()
    assert nfo.findtext("director") == "Someone"


def test_a_video_without_a_file_is_edited_without_a_job(users):
    video = Video.objects.create(owner=users["alice"], url="https://example.com/nofile")
    assert edit_video(video, {"title": "Named"}, users["alice"]) is None
    assert Video.objects.get(pk=video.pk).title == "Named"
    assert edit_video(video, {"title": "Named"}, users["alice"]) is None  # no change, no job


def test_the_library_template_decides_the_layout(users, media, settings):
    settings.LIBRARY_TEMPLATE = "{artist}/{year} - {title}.{ext}"
    video = filed_video(users["alice"], artist="Tmpl", title="One")
    result = run_rename(edit_video(video, {"year": 2001}, users["alice"]))
    assert result["file"] == "Tmpl/2001 - One.mp4"
    other = filed_video(users["alice"], artist="Tmpl", title="Two")
    result = run_rename(edit_video(other, {"title": "One", "year": 2001}, users["alice"]))
    assert result["file"] == f"Tmpl/2001 - One [{other.pk}].mp4"  # no {id}: ours, after the name


@pytest.mark.parametrize(
    "template, message",
    [
        ("../{title}.{ext}", "must be a relative path"),
        ("/abs/{title}.{ext}", "must be a relative path"),
        ("{artist}/{title}.mp4", "must end with .{ext}"),
        ("{artist}/{nope}.{ext}", "{nope} is not a placeholder"),
        ("{artist}/{title!r}.{ext}", "without a conversion"),
        ("{artist}/{title.__class__}.{ext}", "is not a placeholder"),
        ("{artist}/{title", "stray brace"),
        ("{artist}/fixed.{ext}", "must name the video"),
    ],
)
def test_a_bad_library_template_stops_the_start(template, message):
    result = load_settings(MVIDARR_LIBRARY_TEMPLATE=template)
    assert result.returncode != 0
    assert "MVIDARR_LIBRARY_TEMPLATE" in result.stderr and message in result.stderr


@pytest.mark.parametrize(
    "body",
    [
        {"year": 10**30},
        {"year": 1000},
        {"title": "x" * 301},
        {"artist": ["a list"]},
        {"year": "soon"},
    ],
)
def test_bad_edits_get_a_4xx_and_change_nothing(api, users, body):
    video = Video.objects.create(owner=users["alice"], url="https://example.com/bad", title="Kept")
    response = api("patch", f"/videos/{video.pk}", body=body)
    assert response.status_code in (400, 422), response.content
    assert Video.objects.get(pk=video.pk).title == "Kept"


def test_an_edit_clears_control_characters_and_others_videos_are_404(api, users):
    video = Video.objects.create(owner=users["alice"], url="https://example.com/nul")
    response = api("patch", f"/videos/{video.pk}", body={"title": "A\x00B\nC", "genre": None})
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "A B C"
    assert api("patch", f"/videos/{video.pk}", user="bob", body={"title": "x"}).status_code == 404
    assert api("patch", "/videos/99999999999999999999", body={"title": "x"}).status_code in (
        404,
        422,
    )


def test_the_edit_page_saves_and_answers_bad_input_on_the_form(client, users):
    video = Video.objects.create(owner=users["alice"], url="https://example.com/page", title="Page")
    client.force_login(users["alice"])
    assert b'value="Page"' in client.get(f"/videos/{video.pk}/edit/").content
    bad = client.post(f"/videos/{video.pk}/edit/", {"title": "T", "year": "12345"})
    assert bad.status_code == 422 and b"less than or equal to 2200" in bad.content
    ok = client.post(f"/videos/{video.pk}/edit/", {"title": "Paged", "artist": "Someone"})
    assert ok.status_code == 302
    video.refresh_from_db()
    assert (video.title, video.artist_name) == ("Paged", "Someone")
    client.force_login(users["bob"])
    assert client.get(f"/videos/{video.pk}/edit/").status_code == 404


def test_editing_a_downloaded_video_renames_it_on_disk(embedded_app, media):
    client = embedded_app.client()
    job = download(client, media.url(unique("media/clip.mp4")), artist="Live", title="Before")
    video_id = job["result"]["video_id"]
    before = client.get(f"/api/videos/{video_id}").json()["file"]
    response = client.patch(f"/api/videos/{video_id}", json={"title": "After"})
    assert response.status_code == 202, response.text
    assert finished(client, response.json()["job_id"])["status"] == "succeeded"
    after = client.get(f"/api/videos/{video_id}").json()["file"]
    library = Path(embedded_app.data_dir) / "library"
    assert "After" in after and (library / after).is_file() and not (library / before).exists()
    assert (library / after).with_suffix(".nfo").is_file()


def test_renaming_an_artist_renames_its_files_as_one_job(api, users, media):
    first = filed_video(users["alice"], artist="Old Name", title="One")
    second = filed_video(users["alice"], artist="Old Name", title="Two")
    Video.objects.create(owner=users["alice"], url="https://example.com/none",
                         artist=first.artist)  # fmt: skip
    response = api("patch", f"/artists/{first.artist_id}", body={"name": "New Name"})
    assert response.status_code == 200, response.content
    parent = Job.objects.get(pk=response.json()["job_id"])
    children = list(parent.children.all())
    assert parent.kind == "bulk_rename_videos" and len(children) == 2
    for child in children:
        run_rename(child)
    files = sorted(Video.objects.exclude(file="").values_list("file", flat=True))
    assert files == [
        f"New Name/New Name - One [{first.source_id}].mp4",
        f"New Name/New Name - Two [{second.source_id}].mp4",
    ]
    assert not (
        settings.LIBRARY_DIR / "Old Name" / f"Old Name - One [{first.source_id}].mp4"
    ).exists()
    same = api("patch", f"/artists/{first.artist_id}", body={"monitored": True})
    assert same.json()["job_id"] is None


# -- bulk edit ------------------------------------------------------------------------


def test_a_bulk_edit_gives_the_selection_one_artist_and_renames_as_one_job(api, users, media):
    filed = [filed_video(users["alice"], artist=f"Band {n}", title=f"Song {n}") for n in (1, 2)]
    bare = Video.objects.create(owner=users["alice"], url="https://example.com/bare", title="Bare")
    ids = [v.pk for v in [*filed, bare]]
    response = api("patch", "/videos/bulk", body={"video_ids": ids, "artist": "One", "year": 2001})
    assert response.status_code == 202, response.content
    assert response.json()["updated"] == 3
    parent = Job.objects.get(pk=response.json()["job_id"])
    assert parent.kind == "bulk_rename_videos" and parent.children.count() == 2
    for child in parent.children.all():
        run_rename(child)
    videos = Video.objects.filter(pk__in=ids)
    assert {(v.artist_name, v.year, v.title) for v in videos} == {
        ("One", 2001, "Song 1"), ("One", 2001, "Song 2"), ("One", 2001, "Bare")
    }  # fmt: skip
    assert all((settings.LIBRARY_DIR / v.file).is_file() for v in videos if v.file)
    assert {Path(v.file).parent.name for v in videos if v.file} == {"One"}
    again = api("patch", "/videos/bulk", body={"video_ids": ids, "artist": "One"})
    assert again.status_code == 200 and again.json() == {
        "updated": 0,
        "job_id": None,
        "status": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"video_ids": [], "year": 2000},
        {"video_ids": [1] * 5001, "year": 2000},
        {"year": 2000},
        {"video_ids": ["x"], "year": 2000},
        {"video_ids": [1], "title": "Same for all"},
        {"video_ids": [1], "year": 10**30},
    ],
)
def test_bad_bulk_edits_get_a_4xx(api, users, body):
    assert api("patch", "/videos/bulk", body=body).status_code in (400, 422)


def test_a_bulk_edit_of_someone_elses_video_is_404_and_changes_nothing(api, users):
    mine = Video.objects.create(owner=users["alice"], url="https://example.com/m", title="M")
    theirs = Video.objects.create(owner=users["bob"], url="https://example.com/t", title="T")
    body = {"video_ids": [mine.pk, theirs.pk], "genre": "Pop"}
    assert api("patch", "/videos/bulk", body=body).status_code == 404
    assert not Video.objects.filter(genre="Pop").exists()


def test_the_library_edits_the_selection_after_a_form(client, users):
    videos = [
        Video.objects.create(owner=users["alice"], url=f"https://example.com/s{n}", title=f"S{n}")
        for n in range(2)
    ]
    client.force_login(users["alice"])
    picked = {"video": [v.pk for v in videos], "next": "/"}
    form = client.post("/videos/bulk/edit/", picked)
    assert form.status_code == 200 and b"Apply to 2 videos" in form.content
    assert b"S0" in form.content and b'name="title"' not in form.content
    bad = client.post("/videos/bulk/edit/", {**picked, "confirm": "yes", "year": "99999"})
    assert bad.status_code == 422 and not Video.objects.filter(year__isnull=False).exists()
    done = client.post("/videos/bulk/edit/", {**picked, "confirm": "yes", "album": "Live"})
    assert done.status_code == 302 and done.url == "/"
    assert Video.objects.filter(album="Live").count() == 2
    assert Video.objects.filter(title="S0").exists()  # blank fields left as they were
    client.force_login(users["bob"])
    assert client.post("/videos/bulk/edit/", picked).status_code == 404
