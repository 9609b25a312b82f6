"""Tests for the local media server (tests/mediaserver.py) and its MediaServer handle."""

from __future__ import annotations

import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yt_dlp

from tests.media import MediaServer


@pytest.fixture(scope="module")
def server() -> Iterator[MediaServer]:
    with MediaServer() as srv:
        yield srv
    assert srv.returncode == 0
    assert "Traceback" not in srv.stderr, srv.stderr


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as c:
        yield c


def clip_bytes(server: MediaServer) -> bytes:
    return (server.cache / "clip.mp4").read_bytes()


def raw_status(server: MediaServer, path: str) -> int:
    """Send a request line verbatim (httpx would normalise ``..`` away)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return int(sock.recv(1024).split()[1])


def new_key() -> str:
    return uuid.uuid4().hex


def test_generated_media(server: MediaServer) -> None:
    assert 250_000 <= (server.cache / "clip.mp4").stat().st_size <= 700_000
    assert 1_200_000 <= (server.cache / "long.mp4").stat().st_size <= 3_500_000
    assert len(list((server.cache / "hls" / "clip").glob("*.ts"))) >= 5
    for variant in ("v1080", "v720", "v360"):
        assert len(list((server.cache / "hls" / "ladder").glob(f"{variant}_*.ts"))) >= 3


def test_full_get_and_head(server: MediaServer, client: httpx.Client) -> None:
    data = clip_bytes(server)
    r = client.get(server.url("media/clip.mp4"))
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == len(data)
    head = client.head(server.url("media/long.mp4?key=x"))
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == (server.cache / "long.mp4").stat().st_size
    assert head.content == b""


def test_range_requests(server: MediaServer, client: httpx.Client) -> None:
    data = clip_bytes(server)
    size = len(data)
    r = client.get(server.url("media/clip.mp4"), headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{size}"
    r = client.get(server.url("media/clip.mp4"), headers={"Range": f"bytes={size - 10}-"})
    assert r.status_code == 206
    assert r.content == data[-10:]
    r = client.get(server.url("media/clip.mp4"), headers={"Range": "bytes=-5"})
    assert (r.status_code, r.content) == (206, data[-5:])
    r = client.get(server.url("media/clip.mp4"), headers={"Range": f"bytes=0-{size + 50}"})
    assert (r.status_code, r.content) == (206, data)


def test_range_unsatisfiable(server: MediaServer, client: httpx.Client) -> None:
    size = len(clip_bytes(server))
    r = client.get(server.url("media/clip.mp4"), headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


def test_rate_throttles(server: MediaServer, client: httpx.Client) -> None:
    t0 = time.monotonic()
    r = client.get(server.url("media/long.mp4?rate=200000"), headers={"Range": "bytes=0-99999"})
    elapsed = time.monotonic() - t0
    assert len(r.content) == 100_000
    assert 0.3 <= elapsed < 3


def test_stall_after_blocks_without_blocking_others(
    server: MediaServer, client: httpx.Client
) -> None:
    got = bytearray()
    timeout = httpx.Timeout(5, read=1)
    url = server.url("media/clip.mp4?stall_after=50000")
    with (
        httpx.Client(trust_env=False, timeout=timeout) as c,
        c.stream("GET", url) as r,
    ):
        assert int(r.headers["content-length"]) == len(clip_bytes(server))
        with pytest.raises(httpx.ReadTimeout):
            for chunk in r.iter_raw():
                got += chunk
        # the stalled connection must not hold up other requests
        assert client.get(server.url("status/200")).status_code == 200
    assert len(got) == 50_000


def test_drop_after_short_read(server: MediaServer, client: httpx.Client) -> None:
    got = bytearray()
    url = server.url("media/clip.mp4?drop_after=10000")
    with (
        pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
        client.stream("GET", url) as r,
    ):
        for chunk in r.iter_raw():
            got += chunk
    assert len(got) == 10_000
    assert client.get(server.url("media/clip.mp4")).status_code == 200  # server still fine


def test_fail_then_succeed_and_stats(server: MediaServer, client: httpx.Client) -> None:
    key = new_key()
    url = server.url(f"media/clip.mp4?fail=2&key={key}")
    codes = [client.get(url).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert server.stats(key) == 3
    assert server.stats(new_key()) == 0


def test_only_bodies_sent_to_the_files_end_count_as_completed(
    server: MediaServer, client: httpx.Client
) -> None:
    key = new_key()
    url = server.url(f"media/clip.mp4?key={key}")
    size = len(clip_bytes(server))
    client.head(url)
    client.get(url, headers={"Range": "bytes=0-999"})
    assert server.completed(key) == 0
    client.get(url, headers={"Range": f"bytes={size - 1000}-"})  # a resumed download's rest
    client.get(url)
    with (
        pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
        client.stream("GET", f"{url}&drop_after=10000") as r,
    ):
        for _ in r.iter_raw():
            pass
    assert server.completed(key) == 2
    assert server.stats(key) == 5


def test_forced_status_and_status_route(server: MediaServer, client: httpx.Client) -> None:
    assert client.get(server.url("media/clip.mp4?status=403")).status_code == 403
    assert client.get(server.url("status/418")).status_code == 418
    assert client.get(server.url("status/204")).status_code == 204
    assert client.get(server.url("media/nope.mp4")).status_code == 404


def test_feed_with_1000_items(server: MediaServer, client: httpx.Client) -> None:
    t0 = time.monotonic()
    r = client.get(server.url("feed.xml?n=1000&media=clip.mp4"))
    assert time.monotonic() - t0 < 2
    assert r.status_code == 200
    items = ET.fromstring(r.content).findall("./channel/item")
    assert len(items) == 1000
    enclosures = [item.find("enclosure") for item in items]
    assert all(e is not None for e in enclosures)
    assert enclosures[0].get("url") == server.url("media/clip.mp4?item=1")  # type: ignore[union-attr]
    assert enclosures[0].get("length") == str(len(clip_bytes(server)))  # type: ignore[union-attr]
    assert len({item.findtext("guid") for item in items}) == 1000


@pytest.mark.parametrize(
    "path",
    [
        "/media/../../etc/passwd",
        "/media/%2e%2e%2fetc%2fpasswd",
        "/media/..%2f..%2f..%2fetc%2fpasswd",
        "/media/%2fetc%2fpasswd",
        "/hls/..%2f..%2fetc/passwd",
        "/hls/../../etc/passwd",
        "/media/hls",
        "/page/..%2f..%2fetc%2fpasswd.html",
    ],
)
def test_path_traversal_rejected(server: MediaServer, client: httpx.Client, path: str) -> None:
    assert raw_status(server, path) in (400, 404)
    assert client.get(server.url(path)).status_code in (400, 404)


def test_hls_routes(server: MediaServer, client: httpx.Client) -> None:
    r = client.get(server.url("hls/clip/index.m3u8?key=hls"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.apple.mpegurl"
    segments = [line for line in r.text.splitlines() if line.endswith(".ts")]
    assert len(segments) >= 5
    seg = client.get(server.url(f"hls/clip/{segments[0]}"))
    assert seg.status_code == 200
    assert seg.headers["content-type"] == "video/mp2t"
    assert len(seg.content) > 1000


def test_a_traced_playlist_gives_each_variant_its_own_key(
    server: MediaServer, client: httpx.Client
) -> None:
    tag = new_key()
    master = client.get(server.url(f"hls/ladder/master.m3u8?trace={tag}")).text
    assert "RESOLUTION=1280x720" in master
    variant = next(line for line in master.splitlines() if line.startswith("v720.m3u8?"))
    segments = client.get(server.url(f"hls/ladder/{variant}")).text
    segment = next(line for line in segments.splitlines() if not line.startswith("#"))
    assert segment.startswith("v720_000.ts?key=")
    assert client.get(server.url(f"hls/ladder/{segment}")).status_code == 200
    assert server.stats(f"{tag}/v720") == 1
    assert server.stats(f"{tag}/v720/segments") == 1
    assert server.stats(f"{tag}/v1080/segments") == 0


def test_page_has_video(server: MediaServer, client: httpx.Client) -> None:
    r = client.get(server.url("page/clip.html"))
    assert r.status_code == 200
    assert "<title>Test video clip</title>" in r.text
    assert 'property="og:title"' in r.text
    assert '<video src="/media/clip.mp4"' in r.text


def test_concurrent_cold_start(tmp_path: Path) -> None:
    """Two servers generating into the same empty cache both come up."""
    servers = [MediaServer(tmp_path / "cache") for _ in range(2)]
    errors: list[BaseException] = []

    def start(srv: MediaServer) -> None:
        try:
            srv.start()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(srv,)) for srv in servers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(servers[0].startup_timeout)
        assert not errors, errors
        sizes = [
            int(httpx.head(srv.url("media/clip.mp4"), trust_env=False).headers["content-length"])
            for srv in servers
        ]
        assert sizes[0] == sizes[1] == (tmp_path / "cache" / "clip.mp4").stat().st_size
        assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tmp-")]
        # a stalled download must not delay shutdown
        with httpx.stream(
            "GET", servers[0].url("media/long.mp4?stall_after=1000"), trust_env=False
        ) as r:
            next(r.iter_raw())
            t0 = time.monotonic()
            servers[0].stop()
            assert time.monotonic() - t0 < 3
    finally:
        for srv in servers:
            srv.stop()
    assert [srv.returncode for srv in servers] == [0, 0]
    assert all(srv.stderr == "" for srv in servers), [srv.stderr for srv in servers]


# --- yt-dlp can see everything --------------------------------------------------------


def extract(url: str) -> dict:
    with yt_dlp.YoutubeDL({"quiet": True, "no_warnings": True, "skip_download": True}) as ydl:
        return ydl.extract_info(url, download=False)


def test_ytdlp_direct_mp4(server: MediaServer) -> None:
    info = extract(server.url("media/clip.mp4"))
    assert info["ext"] == "mp4"
    assert info["url"] == server.url("media/clip.mp4")


def test_ytdlp_hls(server: MediaServer) -> None:
    info = extract(server.url("hls/clip/index.m3u8"))
    assert info["protocol"].startswith("m3u8")
    assert info["ext"] == "mp4"


def test_ytdlp_sees_the_variants_of_a_master_playlist(server: MediaServer) -> None:
    info = extract(server.url("hls/ladder/master.m3u8"))
    assert sorted(f["height"] for f in info["formats"]) == [360, 720, 1080]


def test_ytdlp_html_page(server: MediaServer) -> None:
    info = extract(server.url("page/clip.html"))
    assert info["title"].startswith("Test video clip")  # yt-dlp appends " (1)"
    assert info["url"] == server.url("media/clip.mp4")


def test_ytdlp_feed_playlist(server: MediaServer) -> None:
    info = extract(server.url("feed.xml?n=3"))
    assert info["_type"] == "playlist"
    entries = list(info["entries"])
    assert len(entries) == 3
    assert [e["url"] for e in entries] == [
        server.url(f"media/clip.mp4?item={i}") for i in range(1, 4)
    ]
