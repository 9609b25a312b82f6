"""Thumbnails in process: the image view and its caching, who may see them,
the API's URLs, the pages, and the "Regenerate thumbnails" actions (the
broker is a stub nobody consumes, so their jobs stay queued)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from jobs.models import Job
from tests.pagekit import HTMX, row_html, video_of
from videos.thumbnails import stage
from videos.views import render_row


@pytest.fixture
def thumbs(settings, tmp_path):
    settings.THUMBS_DIR = tmp_path / "thumbs"
    return settings.THUMBS_DIR


def with_thumbnails(video, width: int = 1920):
    """Thumbnails as the job makes them, from a picture ``width`` px wide."""
    sizes = {str(key): min(key, width) for key in (320, 640, 1280)}
    for key, real in sizes.items():
        path = video.thumbnail_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (real, real * 9 // 16), (200, 30, 30)).save(path, "JPEG")
    video.record_thumbnails(sizes)
    return video


def test_a_thumbnail_is_sent_with_cache_headers_and_304_when_the_copy_is_current(
    client, users, thumbs
):
    video = with_thumbnails(video_of(users["alice"]))
    client.force_login(users["alice"])
    url = video.thumbnails["640"]
    assert url == f"/videos/{video.pk}/thumbnail/640.jpg?v=1"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(video.thumbnail_file(640)).size == (640, 360)
    assert response.content == video.thumbnail_file(640).read_bytes()
    assert response["Cache-Control"] == "private, max-age=31536000"
    etag, modified = response["ETag"], response["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content
    assert again["ETag"] == etag and again["Cache-Control"] == "private, max-age=31536000"
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"old"').status_code == 200
    assert client.head(url).status_code == 200


def test_only_the_owner_and_staff_see_a_thumbnail(client, users, thumbs):
    video = with_thumbnails(video_of(users["alice"]))
    url = video.thumbnails["320"]
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(users["bob"])
    assert client.get(url).status_code == 404
    client.force_login(users["staff"])
    assert client.get(url).status_code == 200
    assert client.get(f"/videos/{video.pk}/thumbnail/480.jpg").status_code == 404  # no such size
    assert client.post(url).status_code == 405
    video.thumbnail_file(320).unlink()
    assert client.get(url).status_code == 404


def test_the_api_gives_a_url_per_size_that_exists(api, users, thumbs):
    bare = video_of(users["alice"], "Bare")
    assert api("get", f"/videos/{bare.pk}").json()["thumbnails"] == {}
    video = with_thumbnails(video_of(users["alice"], "Pictured"), width=480)
    body = api("get", f"/videos/{video.pk}").json()
    assert body["thumbnails"] == {
        key: f"/videos/{video.pk}/thumbnail/{key}.jpg?v=1" for key in ("320", "640", "1280")
    }
    listed = {v["id"]: v["thumbnails"] for v in api("get", "/videos").json()["items"]}
    assert listed == {bare.pk: {}, video.pk: body["thumbnails"]}
    video.record_thumbnails(video.thumbnail_sizes)  # made again: new URLs
    assert api("get", f"/videos/{video.pk}").json()["thumbnails"]["320"].endswith("?v=2")


def test_library_rows_show_the_small_thumbnail_lazily_or_a_placeholder(client, users, thumbs):
    pictured = with_thumbnails(video_of(users["alice"], "Pictured"))
    bare = video_of(users["alice"], "Bare")
    client.force_login(users["alice"])
    html = client.get("/").content.decode()
    row = row_html(html, f"video-{pictured.pk}")
    assert re.search(rf'<img class="thumb" src="{re.escape(pictured.thumbnails["320"])}"', row)
    assert 'loading="lazy"' in row
    row = row_html(html, f"video-{bare.pk}")
    assert 'class="thumb placeholder"' in row and "<img" not in row
    assert "Regenerate thumbnails" in html


def test_the_video_page_offers_the_larger_sizes_by_srcset(client, users, thumbs):
    video = with_thumbnails(video_of(users["alice"]))
    client.force_login(users["alice"])
    html = client.get(f"/videos/{video.pk}/").content.decode()
    urls = video.thumbnails
    srcset = f"{urls['320']} 320w, {urls['640']} 640w, {urls['1280']} 1280w"
    assert f'srcset="{srcset}"' in html and f'src="{urls["640"]}"' in html
    narrow = with_thumbnails(video_of(users["alice"], "Narrow"), width=480)
    html = client.get(f"/videos/{narrow.pk}/").content.decode()
    urls = narrow.thumbnails
    assert f'srcset="{urls["320"]} 320w, {urls["640"]} 480w"' in html  # each file once
    bare = video_of(users["alice"], "Bare")
    html = client.get(f"/videos/{bare.pk}/").content.decode()
    assert 'class="thumb placeholder large"' in html


def test_the_library_button_regenerates_the_videos_that_have_a_picture(client, users):
    alice = users["alice"]
    sourced = video_of(alice, "Sourced", thumbnail_url="https://img.example.com/a.jpg")
    filed = video_of(
        alice, "Filed", status="downloaded", file="A/A - F [x].mp4", video_codec="h264"
    )
    audio = video_of(alice, "Audio", status="downloaded", file="A/A - S [y].m4a")
    wanted = video_of(alice, "Wanted")
    foreign = video_of(users["bob"], "Bob's", thumbnail_url="https://img.example.com/b.jpg")
    client.force_login(alice)
    ids = [str(v.pk) for v in (sourced, filed, audio, wanted, foreign)]
    response = client.post("/videos/bulk/thumbnails/", {"video": ids}, headers=HTMX)
    assert response.status_code == 200
    assert "Making the thumbnails of 2 videos" in response.content.decode()
    parent = Job.objects.get(kind="regenerate_thumbnails")
    assert parent.owner == alice and parent.stage == "waiting"
    children = Job.objects.filter(parent=parent)
    assert {(c.kind, c.queue, c.subject) for c in children} == {
        ("make_thumbnails", "image_processing", sourced.subject),
        ("make_thumbnails", "image_processing", filed.subject),
    }
    assert parent.children_counts()["total"] == 2
    nothing = client.post("/videos/bulk/thumbnails/", {"video": [str(wanted.pk)]}, headers=HTMX)
    assert "No thumbnails to make" in nothing.content.decode()
    empty = client.post("/videos/bulk/thumbnails/", {}, headers=HTMX)
    assert "Select at least one video first." in empty.content.decode()
    client.force_login(users["bob"])
    assert client.post("/videos/bulk/thumbnails/", {"video": [str(sourced.pk)]}).status_code == 404


def test_staff_regenerate_thumbnails_from_the_admin(client, users):
    users["staff"].is_superuser = True
    users["staff"].save()
    videos = [
        video_of(users["alice"], f"V{n}", thumbnail_url=f"https://img.example.com/{n}.jpg")
        for n in range(3)
    ]
    client.force_login(users["staff"])
    response = client.post(
        "/admin/videos/video/",
        {"action": "regenerate_thumbnails", "_selected_action": [str(v.pk) for v in videos]},
        follow=True,
    )
    assert b"Making the thumbnails of 3 video(s)" in response.content
    parent = Job.objects.get(kind="regenerate_thumbnails")
    assert parent.children_counts()["total"] == 3


def test_a_failed_staging_leaves_no_temporary_file(tmp_path):
    made = tmp_path / "320.jpg"
    made.write_bytes(b"jpeg")
    places = [(made, tmp_path / "a" / "320.jpg"), (tmp_path / "missing.jpg", tmp_path / "b.jpg")]
    with pytest.raises(FileNotFoundError):
        stage(places, "tag")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["320.jpg", "a"]


def test_a_live_library_row_brings_the_new_thumbnail(users, thumbs):
    video = video_of(users["alice"])
    fragment = render_row(video.subject, users["alice"], "library")
    assert f'id="video-{video.pk}-thumb"' in fragment and "placeholder" in fragment
    with_thumbnails(video)
    fragment = render_row(video.subject, users["alice"], "library")
    thumb = fragment[fragment.index(f'id="video-{video.pk}-thumb"') :]
    assert thumb.index('hx-swap-oob="true"') < thumb.index(f'src="{video.thumbnails["320"]}"')
