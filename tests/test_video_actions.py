"""Deleting and ignoring videos, in process: the pages, the API, the files in
the library folder and who may act. The broker is a stub nobody consumes, so
jobs stay as the actions leave them (the live tests are in test_add_box.py)."""

from __future__ import annotations

import pytest

from jobs.models import Job
from tests.pagekit import HTMX, job_of, library_file_of, row_html, video_of
from videos import views
from videos.models import Video
from videos.tasks import start_bulk_download

HUGE = "99999999999999999999999"
NAME = "Band/Band - Song [x].mp4"


@pytest.fixture
def library(settings, tmp_path):
    settings.LIBRARY_DIR = (tmp_path / "library").resolve()
    settings.LIBRARY_DIR.mkdir()
    return settings.LIBRARY_DIR


def filed(user, library, name=NAME, title="Song"):
    """A downloaded video of ``user`` with its file, NFO and thumbnail in the library."""
    video = video_of(user, title)
    path = library_file_of(video, library, b"video", name)
    path.with_suffix(".nfo").write_text("<musicvideo/>")
    thumb = path.with_name(path.stem + "-thumb.jpg")
    thumb.write_bytes(b"jpeg")
    return video, [path, path.with_suffix(".nfo"), thumb]


# -- delete -------------------------------------------------------------------------


def test_deleting_keeps_the_files_unless_asked(api, users, library):
    video, files = filed(users["alice"], library)
    response = api("delete", f"/videos/{video.pk}")
    assert response.status_code == 204 and response.content == b""
    assert not Video.objects.filter(pk=video.pk).exists()
    assert all(f.exists() for f in files)


def test_deleting_with_the_file_removes_video_nfo_and_thumbnail(api, users, library):
    video, files = filed(users["alice"], library)
    other, other_files = filed(users["alice"], library, "Band/Band - Other [y].mp4", "Other")
    response = api("delete", f"/videos/{video.pk}?delete_file=true")
    assert response.status_code == 204
    assert not any(f.exists() for f in files)
    assert all(f.exists() for f in other_files)  # the artist's other video stays
    api("delete", f"/videos/{other.pk}?delete_file=true")
    assert not (library / "Band").exists()  # an emptied artist folder goes too
    assert library.is_dir()


@pytest.fixture
def thumbs(settings, tmp_path):
    settings.THUMBS_DIR = tmp_path / "thumbs"
    return settings.THUMBS_DIR


def made_thumbnails(video, thumbs):
    folder = thumbs / str(video.pk)
    folder.mkdir(parents=True)
    (folder / "320.jpg").write_bytes(b"jpeg")
    return folder


def test_deleting_removes_the_pages_thumbnails_even_when_the_file_stays(
    api, users, library, thumbs
):
    video, files = filed(users["alice"], library)
    other, _ = filed(users["alice"], library, "Band/Band - Other [y].mp4", "Other")
    folder, kept = made_thumbnails(video, thumbs), made_thumbnails(other, thumbs)
    assert api("delete", f"/videos/{video.pk}").status_code == 204
    assert not folder.exists() and all(f.exists() for f in files)
    assert (kept / "320.jpg").exists()


def test_deleting_in_the_admin_cancels_jobs_and_removes_thumbnails(
    admin_client, users, library, thumbs
):
    video, files = filed(users["alice"], library)
    folder = made_thumbnails(video, thumbs)
    job, _ = video.request_download(users["alice"])
    url = f"/admin/videos/video/{video.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Video.objects.filter(pk=video.pk).exists()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert not folder.exists() and all(f.exists() for f in files)


def test_a_file_another_video_refers_to_is_kept(api, users, library):
    video, files = filed(users["alice"], library)
    video_of(users["bob"], file=NAME, status="downloaded")
    assert api("delete", f"/videos/{video.pk}?delete_file=true").status_code == 204
    assert all(f.exists() for f in files)


@pytest.mark.parametrize("tamper", ["dotdot", "absolute", "folder_link", "file_link"])
def test_a_file_field_pointing_outside_the_library_deletes_nothing_outside(
    api, users, library, tamper
):
    outside = library.parent / "outside"
    outside.mkdir()
    victims = [outside / "victim.mp4", outside / "victim.nfo", outside / "victim-thumb.jpg"]
    for victim in victims:
        victim.write_text("not the library's")
    if tamper == "dotdot":
        name = "../outside/victim.mp4"
    elif tamper == "absolute":
        name = str(victims[0])
    elif tamper == "folder_link":
        (library / "Band").symlink_to(outside)
        name = "Band/victim.mp4"
    else:
        (library / "victim.mp4").symlink_to(victims[0])
        name = "victim.mp4"
    video = video_of(users["staff"], file=name, status="downloaded")
    assert api("delete", f"/videos/{video.pk}?delete_file=true", user="staff").status_code == 204
    assert all(v.read_text() == "not the library's" for v in victims)
    if tamper == "file_link":  # the link itself was in the library: it goes, its target stays
        assert not (library / "victim.mp4").is_symlink()


def test_deleting_cancels_the_videos_active_jobs_first(api, users):
    video = video_of(users["alice"], status="downloading")
    download = job_of(users["alice"], video)
    info = job_of(users["alice"], video, kind="extract_video_info")
    other = job_of(users["alice"], video_of(users["alice"]))
    assert api("delete", f"/videos/{video.pk}").status_code == 204
    for job in (download, info, other):
        job.refresh_from_db()
    assert download.status == info.status == "cancelled"
    assert other.status == "queued"


def test_the_video_page_deletes_after_a_confirm_form(client, users, library):
    video, files = filed(users["alice"], library)
    client.force_login(users["alice"])
    page = client.get(f"/videos/{video.pk}/").content.decode()
    form = page[page.index('<details id="video-delete"') :]
    form = form[: form.index("</details>")]
    assert f'action="/videos/{video.pk}/delete/"' in form
    assert 'name="delete_file"' in form and 'name="next" value="/"' in form
    # The Library's Delete leads to a page asking the same.
    confirm = client.get(f"/videos/{video.pk}/delete/").content.decode()
    assert "Delete “Song”?" in confirm and 'name="delete_file"' in confirm
    assert Video.objects.filter(pk=video.pk).exists()

    response = client.post(
        f"/videos/{video.pk}/delete/",
        {"delete_file": "true", "next": f"/videos/{video.pk}/"},
        follow=True,
    )
    assert response.redirect_chain == [("/", 302)]  # not back to the deleted video's page
    assert "Deleted “Song” and 3 files." in response.content.decode()
    assert not Video.objects.filter(pk=video.pk).exists()
    assert not any(f.exists() for f in files)


def test_bulk_delete_asks_first_then_deletes_the_selection(client, users, library):
    alice = users["alice"]
    (one, one_files), (two, two_files) = filed(alice, library), filed(alice, library, "B/B.mp4")
    kept = video_of(alice, "Kept")
    client.force_login(alice)
    ids = {"video": [one.pk, two.pk]}
    # With htmx the confirmation comes into the page's message area.
    response = client.post("/videos/bulk/delete/", ids, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<article id="delete-confirm"')
    assert 'name="confirm" value="yes"' in html and "Delete 2 videos" in html
    assert Video.objects.count() == 3
    # Without htmx it is a page.
    assert "<h1>Delete 2 videos?</h1>" in client.post("/videos/bulk/delete/", ids).content.decode()

    response = client.post("/videos/bulk/delete/", {**ids, "confirm": "yes"}, follow=True)
    assert "Deleted 2 videos." in response.content.decode()
    assert list(Video.objects.all()) == [kept]
    assert all(f.exists() for f in one_files + two_files)


def test_bulk_delete_with_files_removes_them(client, users, library):
    video, files = filed(users["alice"], library)
    client.force_login(users["alice"])
    data = {"video": [video.pk], "confirm": "yes", "delete_file": "true"}
    response = client.post("/videos/bulk/delete/", data, follow=True)
    assert "Deleted “Song” and 3 files." in response.content.decode()
    assert not any(f.exists() for f in files)


# -- ignore -------------------------------------------------------------------------


def test_ignoring_cancels_a_queued_download_and_unignoring_restores_the_state(api, users):
    video = video_of(users["alice"], status="downloading")
    download = job_of(users["alice"], video)
    response = api("post", f"/videos/{video.pk}/ignore")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    download.refresh_from_db()
    assert download.status == "cancelled"
    response = api("post", f"/videos/{video.pk}/unignore")
    assert response.json()["status"] == "wanted"


def test_an_ignored_downloaded_video_is_downloaded_again_when_unignored(api, users, library):
    video, _ = filed(users["alice"], library)
    assert api("post", f"/videos/{video.pk}/ignore").json()["status"] == "ignored"
    assert api("post", f"/videos/{video.pk}/unignore").json()["status"] == "downloaded"


def test_bulk_downloads_leave_ignored_videos_out(api, users):
    alice = users["alice"]
    ignored, wanted = video_of(alice, "Ignored", status="ignored"), video_of(alice, "Wanted")
    parent = start_bulk_download(alice, [ignored, wanted])
    assert [j.params["video_id"] for j in parent.children.all()] == [wanted.pk]
    response = api("post", "/videos/bulk/download", body={"video_ids": [ignored.pk]})
    assert response.status_code == 202 and response.json()["children"]["total"] == 0
    ignored.refresh_from_db()
    assert ignored.status == "ignored"


def test_the_library_rows_ignore_and_unignore_with_htmx(client, users):
    video = video_of(users["alice"])
    client.force_login(users["alice"])
    row = client.post(f"/videos/{video.pk}/ignore/", headers=HTMX).content.decode()
    assert row.lstrip().startswith(f'<article id="video-{video.pk}"')
    assert 'data-status="ignored"' in row and f'action="/videos/{video.pk}/unignore/"' in row
    assert f'action="/videos/{video.pk}/download/"' not in row
    row = client.post(f"/videos/{video.pk}/unignore/", headers=HTMX).content.decode()
    assert "Wanted" in row and f'action="/videos/{video.pk}/ignore/"' in row
    # Without htmx: back to where the form said.
    response = client.post(f"/videos/{video.pk}/ignore/", {"next": f"/videos/{video.pk}/"})
    assert response["Location"] == f"/videos/{video.pk}/"
    assert "Unignore" in client.get(f"/videos/{video.pk}/").content.decode()


def test_bulk_ignore_ignores_the_selection(client, users):
    alice = users["alice"]
    one, two, other = video_of(alice), video_of(alice), video_of(alice)
    client.force_login(alice)
    response = client.post("/videos/bulk/ignore/", {"video": [one.pk, two.pk]}, headers=HTMX)
    html = response.content.decode()
    assert "Ignored 2 videos" in html
    assert 'data-status="ignored"' in row_html(html, f"video-{one.pk}")
    statuses = dict(Video.objects.values_list("pk", "status"))
    assert statuses == {one.pk: "ignored", two.pk: "ignored", other.pk: "wanted"}
    page = client.get("/").content.decode()
    assert 'formaction="/videos/bulk/ignore/"' in page
    assert 'formaction="/videos/bulk/delete/"' in page


# -- re-download bookkeeping ----------------------------------------------------------


@pytest.mark.parametrize("ending", ["failed", "cancelled"])
def test_a_redownload_that_ends_without_a_file_keeps_the_old_one(users, library, ending):
    video, files = filed(users["alice"], library)
    job, _ = video.request_download(users["alice"])
    video.refresh_from_db()
    assert video.status == "downloading"
    if ending == "failed":
        Job.objects.filter(pk=job.pk).update(status="running")
        job.refresh_from_db()
        assert job.mark_failed("HTTP Error 404: Not Found", "not_found")
    else:
        assert job.cancel()
    video.refresh_from_db()
    assert (video.status, video.file) == ("downloaded", NAME)
    assert all(f.exists() for f in files)


# -- live rows of deleted videos ------------------------------------------------------


def test_a_deleted_videos_row_goes_or_says_it_became_a_playlist(users):
    alice = users["alice"]
    video = video_of(alice)
    subject, pk = video.subject, video.pk
    info = job_of(alice, video, kind="extract_video_info", status="succeeded")
    video.delete()
    html = views.render_row(subject, alice, "library")
    assert html.strip() == f'<div id="video-{pk}" hx-swap-oob="delete"></div>'
    assert views.render_row(subject, alice, "video") == ""
    playlist = job_of(alice, kind="download_playlist", status="running")
    info.result = {"playlist_job_id": str(playlist.pk), "title": "Feed", "url": video.url}
    info.save()
    html = views.render_row(subject, alice, "library")
    assert f'<article id="video-{pk}"' in html and 'hx-swap-oob="true"' in html
    assert f'href="/jobs/{playlist.pk}/"' in html and "Playlist" in html
    # Another user's subject tells nothing.
    assert "jobs/" not in views.render_row(subject, users["bob"], "library")


# -- who may act, and hostile input -----------------------------------------------------

ACTIONS = ["ignore", "unignore", "delete"]


@pytest.mark.parametrize("action", ACTIONS)
def test_another_users_video_is_not_found_for_every_action(client, api, users, library, action):
    video, files = filed(users["bob"], library)
    client.force_login(users["alice"])
    for headers in ({}, HTMX):
        response = client.post(
            f"/videos/{video.pk}/{action}/", {"delete_file": "true"}, headers=headers
        )
        assert response.status_code == 404
    assert client.get(f"/videos/{video.pk}/delete/").status_code == 404
    if action == "delete":
        assert api("delete", f"/videos/{video.pk}?delete_file=true").status_code == 404
    else:
        assert api("post", f"/videos/{video.pk}/{action}").status_code == 404
    for bulk in ("ignore", "delete"):
        data = {"video": [video.pk], "confirm": "yes", "delete_file": "true"}
        assert client.post(f"/videos/bulk/{bulk}/", data).status_code == 404
    video.refresh_from_db()
    assert video.status == "downloaded" and all(f.exists() for f in files)


def test_bulk_actions_skip_other_users_videos_in_a_mixed_selection(client, users):
    mine, theirs = video_of(users["alice"]), video_of(users["bob"])
    client.force_login(users["alice"])
    data = {"video": [mine.pk, theirs.pk], "confirm": "yes"}
    client.post("/videos/bulk/ignore/", data)
    theirs.refresh_from_db()
    assert theirs.status == "wanted"
    client.post("/videos/bulk/delete/", data)
    assert list(Video.objects.all()) == [theirs]


@pytest.mark.parametrize("pk", [HUGE, str(2**63), "0"])
def test_hostile_ids_get_a_4xx(client, api, users, pk):
    client.force_login(users["alice"])
    for action in ACTIONS:
        assert client.post(f"/videos/{pk}/{action}/").status_code == 404
        assert 400 <= api("post", f"/videos/{pk}/{action}").status_code < 500
    assert client.get(f"/videos/{pk}/delete/").status_code == 404
    assert 400 <= api("delete", f"/videos/{pk}").status_code < 500
    for bulk in ("ignore", "delete"):
        response = client.post(f"/videos/bulk/{bulk}/", {"video": [pk, "-1", "²", "x"]})
        assert 300 <= response.status_code < 500


@pytest.mark.parametrize("value", ["maybe", "\x00", "2"])
def test_a_bad_delete_file_value_is_refused_and_deletes_nothing(api, users, value):
    video = video_of(users["alice"])
    response = api("delete", f"/videos/{video.pk}?delete_file={value}")
    assert response.status_code == 422
    assert Video.objects.filter(pk=video.pk).exists()


def test_actions_refuse_get(client, users):
    video = video_of(users["alice"])
    client.force_login(users["alice"])
    for path in (f"/videos/{video.pk}/ignore/", f"/videos/{video.pk}/unignore/"):
        assert client.get(path).status_code == 405
    for path in ("/videos/bulk/ignore/", "/videos/bulk/delete/"):
        assert client.get(path).status_code == 405
    assert Video.objects.get().status == "wanted"
