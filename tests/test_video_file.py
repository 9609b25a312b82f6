"""The file view over real HTTP (daphne): Range answers with the library
file's own bytes, HEAD, and a player that stops reading a big file."""

from __future__ import annotations

import time

import pytest

from tests.apikit import download, rss_mb, unique, web_session
from videos.files import RANGE_LIMIT


@pytest.fixture(scope="module")
def clip(embedded_app, media):
    """alice's downloaded clip: (file URL, path in the library)."""
    job = download(embedded_app.client("alice"), media.url(unique("media/clip.mp4")))
    assert job["status"] == "succeeded", job
    video_id = job["subject"].partition(":")[2]
    return f"/videos/{video_id}/file", embedded_app.data_dir / "library" / job["result"]["file"]


@pytest.fixture(scope="module")
def web(embedded_app):
    client = web_session(embedded_app)
    yield client
    client.close()


def test_a_range_over_http_returns_those_bytes_of_the_library_file(web, clip):
    url, path = clip
    data = path.read_bytes()
    response = web.get(url, headers={"Range": "bytes=10-99"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 10-99/{len(data)}"
    assert response.content == data[10:100]
    whole = web.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.content == data
    assert web.get(url, headers={"Range": "bytes=999999999-"}).status_code == 416


def test_a_head_request_over_http_has_the_length_and_no_body(web, clip):
    url, path = clip
    response = web.head(url)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(path.stat().st_size)
    assert response.content == b""


def test_a_player_that_stops_reading_costs_the_server_little_memory(embedded_app, media, web):
    """A browser that has buffered enough keeps its ``bytes=0-`` request open
    and stops reading. The server (daphne does not wait for the socket) holds
    what the view sent, so one answer is capped: not the 400 MB of the file."""
    job = download(embedded_app.client("alice"), media.url(unique("media/clip.mp4")))
    path = embedded_app.data_dir / "library" / job["result"]["file"]
    size = 400 * 1024 * 1024
    with path.open("r+b") as f:
        f.truncate(size)  # sparse: no disk needed
    pid = embedded_app.procs["serve"].pid
    before = rss_mb(pid)
    url = f"/videos/{job['subject'].partition(':')[2]}/file"
    with web.stream("GET", url, headers={"Range": "bytes=0-"}) as response:
        assert response.status_code == 206
        assert response.headers["content-range"] == f"bytes 0-{RANGE_LIMIT - 1}/{size}"
        time.sleep(2)  # not reading: whatever the view sends piles up in the server
        grown = rss_mb(pid) - before
    assert grown < 50, (before, grown)
