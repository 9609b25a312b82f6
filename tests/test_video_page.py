"""The video page and its file view, in process: what the page shows, who
may see it, and Range requests on the library file.

The broker here is a stub nobody consumes, so submitted jobs stay queued."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from tests.pagekit import body_of, job_of, library_file_of, video_of
from videos import files
from videos.models import Video

DATA = bytes(range(256)) * 40  # 10,240 bytes, each position telling its own value


@pytest.fixture
def library(settings, tmp_path):
    settings.LIBRARY_DIR = (tmp_path / "library").resolve()
    settings.LIBRARY_DIR.mkdir()
    return settings.LIBRARY_DIR


@pytest.fixture
def clip(users, library):
    """alice's downloaded video, with DATA as its file."""
    video = video_of(users["alice"], "Song", artist="Band", duration=125.0)
    library_file_of(video, library, DATA)
    return video


# -- the page ---------------------------------------------------------------------


def test_the_video_page_shows_title_artist_status_and_metadata(client, users, clip):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Song</h1>" in html and "Band" in html
    assert '<span class="badge downloaded">Downloaded</span>' in html
    assert '<dd class="duration">2:05</dd>' in html
    assert '<dd class="size">10.0\xa0KB</dd>' in html
    assert "Band/Band - Song [x].mp4" in html
    assert f'href="{clip.url}"' in html  # the source stays reachable


def test_a_downloaded_video_plays_from_its_file_url(client, users, clip):
    client.force_login(users["alice"])
    html = client.get(f"/videos/{clip.pk}/").content.decode()
    player = (
        f'<video id="player" class="player" controls preload="metadata" '
        f'src="/videos/{clip.pk}/file">'
    )
    assert player in html
    assert "Download again" in html


def test_a_video_without_a_file_has_no_player_and_offers_a_download(client, users):
    video = video_of(users["alice"], "Wanted")
    client.force_login(users["alice"])
    html = client.get(f"/videos/{video.pk}/").content.decode()
    assert "<video" not in html
    assert f'action="/videos/{video.pk}/download/"' in html
    assert 'id="no-jobs"' in html


def test_a_failed_video_shows_its_error_and_a_retry(client, users):
    video = video_of(users["alice"], "Broken", status="failed", error="HTTP Error 404: Not Found")
    client.force_login(users["alice"])
    html = client.get(f"/videos/{video.pk}/").content.decode()
    assert "HTTP Error 404: Not Found" in html and ">Retry</button>" in html


def test_the_page_lists_the_videos_jobs_newest_first_with_links(client, users, clip):
    alice = users["alice"]
    now = timezone.now()
    old = job_of(
        alice,
        clip,
        status="failed",
        error="network down",
        created_at=now - timezone.timedelta(hours=2),
        finished_at=now - timezone.timedelta(hours=2),
    )
    new = job_of(
        alice,
        clip,
        status="succeeded",
        created_at=now - timezone.timedelta(hours=1),
        finished_at=now - timezone.timedelta(hours=1),
    )
    other = job_of(alice, video_of(alice, "Other"), status="succeeded", finished_at=now)
    client.force_login(alice)
    html = client.get(f"/videos/{clip.pk}/").content.decode()
    assert html.index(f'href="/jobs/{new.pk}/"') < html.index(f'href="/jobs/{old.pk}/"')
    assert "network down" in html
    assert str(other.pk) not in html


def test_an_active_download_shows_its_progress_and_a_cancel_button(client, users):
    alice = users["alice"]
    video = video_of(alice, "Busy", status="downloading")
    job = job_of(alice, video, status="running", percent=42.5, stage="downloading")
    client.force_login(alice)
    html = client.get(f"/videos/{video.pk}/").content.decode()
    assert html.count(f'id="progress-{job.pk}"') == 1
    assert 'value="42.5"' in html
    assert f'action="/videos/{video.pk}/cancel/"' in html and "Cancel download" in html
    assert f'action="/videos/{video.pk}/download/"' not in html


def test_the_buttons_on_the_page_lead_back_to_it(client, users):
    alice = users["alice"]
    video = video_of(alice, "Wanted")
    client.force_login(alice)
    page = f"/videos/{video.pk}/"
    response = client.post(f"/videos/{video.pk}/download/", {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert video.active_job() is not None
    response = client.post(f"/videos/{video.pk}/cancel/", {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert video.active_job() is None


def test_other_users_get_404_and_staff_see_the_page(client, users, clip):
    client.force_login(users["bob"])
    assert client.get(f"/videos/{clip.pk}/").status_code == 404
    client.force_login(users["staff"])
    assert client.get(f"/videos/{clip.pk}/").status_code == 200


def test_the_page_and_the_file_need_a_login(client, users, clip):
    for path in (f"/videos/{clip.pk}/", f"/videos/{clip.pk}/file"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_the_library_row_links_to_the_video_page_and_keeps_the_source(client, users, clip):
    client.force_login(users["alice"])
    html = client.get("/").content.decode()
    assert f'<a class="title contrast" href="/videos/{clip.pk}/">Song</a>' in html
    assert f'class="source secondary" href="{clip.url}"' in html


# -- the file ---------------------------------------------------------------------


def test_a_plain_get_returns_the_whole_file(client, users, clip):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(DATA))
    assert response["Accept-Ranges"] == "bytes"
    assert body_of(response) == DATA


def test_a_range_returns_206_with_exactly_those_bytes(client, users, clip):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file", HTTP_RANGE="bytes=10-99")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-99/{len(DATA)}"
    assert response["Content-Length"] == "90"
    assert body_of(response) == DATA[10:100]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_open_suffix_and_overlong_ranges_end_at_the_last_byte(
    client, users, clip, header, first, last
):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file", HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert body_of(response) == DATA[first : last + 1]


def test_a_range_past_the_end_is_416(client, users, clip):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file", HTTP_RANGE="bytes=999999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "pages=1-2", "bytes=9-2", "bytes=-"])
def test_ranges_it_does_not_serve_get_the_whole_file(client, users, clip, header):
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file", HTTP_RANGE=header)
    assert response.status_code == 200
    assert body_of(response) == DATA


def test_a_head_request_has_the_headers_and_no_body(client, users, clip):
    client.force_login(users["alice"])
    response = client.head(f"/videos/{clip.pk}/file", HTTP_RANGE="bytes=0-1")
    assert response.status_code == 206
    assert response["Content-Length"] == "2"
    assert response["Content-Range"] == f"bytes 0-1/{len(DATA)}"
    assert body_of(response) == b""


def test_the_file_is_only_for_whoever_may_see_the_video(client, users, clip):
    client.force_login(users["bob"])
    assert client.get(f"/videos/{clip.pk}/file").status_code == 404
    client.force_login(users["staff"])
    assert body_of(client.get(f"/videos/{clip.pk}/file")) == DATA


@pytest.mark.parametrize(
    ("name", "kind"), [("a/b.webm", "video/webm"), ("a/b.MKV", "video/x-matroska")]
)
def test_the_content_type_follows_the_extension(client, users, library, name, kind):
    video = video_of(users["alice"])
    library_file_of(video, library, b"x" * 10, name)
    client.force_login(users["alice"])
    assert client.get(f"/videos/{video.pk}/file")["Content-Type"] == kind


def test_a_path_outside_the_library_is_refused(client, users, library):
    secret = library.parent / "secret.mp4"
    secret.write_bytes(b"not yours")
    video = video_of(users["staff"], file="../secret.mp4", status="downloaded")
    passwd = video_of(users["staff"], file="../../../../../../etc/passwd", status="downloaded")
    absolute = video_of(users["staff"], file=str(secret), status="downloaded")
    client.force_login(users["staff"])
    for v in (video, passwd, absolute):
        assert client.get(f"/videos/{v.pk}/file").status_code == 404
    html = client.get(f"/videos/{video.pk}/").content.decode()
    assert "<video" not in html


def test_a_symlink_out_of_the_library_is_refused(client, users, library):
    secret = library.parent / "secret.mp4"
    secret.write_bytes(b"not yours")
    (library / "link.mp4").symlink_to(secret)
    video = video_of(users["alice"], file="link.mp4", status="downloaded")
    client.force_login(users["alice"])
    assert client.get(f"/videos/{video.pk}/file").status_code == 404


def test_a_missing_file_is_404(client, users, clip, library):
    os.remove(library / clip.file)
    client.force_login(users["alice"])
    assert client.get(f"/videos/{clip.pk}/file").status_code == 404
    assert Video.objects.get(pk=clip.pk).status == "downloaded"


@pytest.mark.parametrize("pk", ["99999999999999999999999", str(2**63)])
def test_a_huge_id_is_not_found_rather_than_a_server_error(client, users, pk):
    client.force_login(users["alice"])
    assert client.get(f"/videos/{pk}/").status_code == 404
    assert client.get(f"/videos/{pk}/file").status_code == 404


def test_a_long_range_is_answered_with_at_most_the_range_limit(client, users, clip, monkeypatch):
    monkeypatch.setattr(files, "RANGE_LIMIT", 1000)
    client.force_login(users["alice"])
    response = client.get(f"/videos/{clip.pk}/file", HTTP_RANGE="bytes=100-")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(DATA)}"
    assert body_of(response) == DATA[100:1100]
    whole = client.get(f"/videos/{clip.pk}/file")
    assert whole.status_code == 200 and body_of(whole) == DATA
