"""Every connection a job makes is checked on the address it connects to.

A "public" media server on 127.0.0.2 (allowed through MVIDARR_ALLOWED_NETWORKS)
redirects to, embeds, lists in a feed and serves an HLS manifest pointing at an
"internal" server on 127.0.0.1. The internal server must never see a request,
and each job must fail for good, naming the host and the setting to change.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

import pytest

from tests.apikit import add_video, finished, thumbnail_job, unique
from tests.live import LiveApp, load_settings
from tests.media import MediaServer
from videos.netguard import Policy, embedded_ipv4, parse_networks, refusal
from videos.tasks import NOT_A_VIDEO
from videos.validation import BadUrl, check_url

STRICT = Policy()


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b:1::a00:1", "10.0.0.1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("::ffff:0:a9fe:a9fe", "169.254.169.254"),
        ("2002:a9fe:a9fe::1", "169.254.169.254"),
        ("::a9fe:a9fe", "169.254.169.254"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),  # Teredo, client 10.0.0.1
    ],
)
def test_ipv6_forms_embedding_ipv4_are_judged_by_the_ipv4_inside(address, inner):
    assert embedded_ipv4(ipaddress.ip_address(address)) == ipaddress.ip_address(inner)
    assert refusal(address, STRICT) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_global_addresses_are_allowed(address):
    assert refusal(address, STRICT) is None


def test_an_embedded_public_ipv4_is_allowed():
    assert refusal("64:ff9b::5db8:d70e", STRICT) is None  # NAT64 of 93.184.215.14


def test_allowed_networks_let_through_just_those_networks():
    policy = Policy(allowed_networks=parse_networks("10.1.0.0/16, 127.0.0.2/32"))
    assert refusal("10.1.2.3", policy) is None
    assert refusal("::ffff:10.1.2.3", policy) is None
    assert refusal("127.0.0.2", policy) is None
    assert "MVIDARR_ALLOWED_NETWORKS" in refusal("10.2.0.1", policy)
    assert "MVIDARR_ALLOW_PRIVATE_URLS" in refusal("127.0.0.1", policy)


@pytest.mark.parametrize("value", ["10.0.0.5/24", "10.0.0.0/33", "not-a-network", "10.0.0.0/8,,x"])
def test_a_bad_allowed_network_is_refused_at_startup(value):
    result = load_settings(MVIDARR_ALLOWED_NETWORKS=value)
    assert result.returncode != 0
    assert "MVIDARR_ALLOWED_NETWORKS must be a comma-separated list of CIDRs" in result.stderr


def test_a_submitted_nat64_url_to_the_metadata_address_is_refused(settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(BadUrl, match="private or local"):
        check_url("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/")


def test_a_submitted_url_in_an_allowed_network_passes(settings):
    settings.ALLOW_PRIVATE_URLS = False
    settings.ALLOWED_NETWORKS = list(parse_networks("127.0.0.2/32"))
    assert check_url("http://127.0.0.2:8080/x.mp4")
    with pytest.raises(BadUrl, match="MVIDARR_ALLOWED_NETWORKS"):
        check_url("http://127.0.0.1:8080/x.mp4")


# -- the live app, with only 127.0.0.2 allowed --------------------------------------


@pytest.fixture(scope="module")
def internal():
    with MediaServer() as server:
        yield server


@pytest.fixture(scope="module")
def public():
    with MediaServer(host="127.0.0.2") as server:
        yield server


@pytest.fixture(scope="module")
def guarded_app():
    env = {"MVIDARR_ALLOW_PRIVATE_URLS": "false", "MVIDARR_ALLOWED_NETWORKS": "127.0.0.2/32"}
    with LiveApp("embedded", extra_env=env) as app:
        yield app


def assert_refused_for_good(job: dict, internal: MediaServer) -> None:
    assert job["status"] == "failed", job
    assert job["error_code"] == "refused_address", job
    assert job["attempts"] == 1, job
    assert f"127.0.0.1 port {internal.port}" in job["error"], job
    assert "MVIDARR_ALLOWED_NETWORKS" in job["error"], job
    assert "MVIDARR_ALLOW_PRIVATE_URLS" in job["error"], job
    assert internal.total() == 0


def download(client, url: str) -> dict:
    video = add_video(client, url)
    finished(client, video["job_id"])  # the metadata job first: it may refuse too
    started = client.post(f"/api/videos/{video['id']}/download")
    assert started.status_code == 202, started.text
    return finished(client, started.json()["job_id"])


def test_the_allowed_public_host_plays(guarded_app, public, internal):
    job = download(guarded_app.client(), public.url(unique("media/clip.mp4")))
    assert job["status"] == "succeeded", job
    assert internal.total() == 0


def test_a_submitted_internal_url_is_refused(guarded_app, internal):
    response = guarded_app.client().post("/api/videos", json={"url": internal.url("media/x.mp4")})
    assert response.status_code == 400
    assert "MVIDARR_ALLOWED_NETWORKS" in response.json()["detail"]
    assert internal.total() == 0


def test_it_refuses_a_redirect_to_an_internal_address(guarded_app, public, internal):
    target = quote(internal.url(unique("page/clip.html")), safe="")
    client = guarded_app.client()
    video = add_video(client, public.url(f"redirect?to={target}"))
    assert_refused_for_good(finished(client, video["job_id"]), internal)
    assert client.get(f"/api/videos/{video['id']}").json()["title"] == ""


def test_it_refuses_a_video_embedded_from_an_internal_address(guarded_app, public, internal):
    src = quote(internal.url(unique("media/clip.mp4")), safe="")
    job = download(guarded_app.client(), public.url(f"embed.html?src={src}"))
    assert_refused_for_good(job, internal)


def test_it_refuses_feed_entries_on_an_internal_address(guarded_app, public, internal):
    base = quote(internal.base_url, safe="")
    client = guarded_app.client()
    url = public.url(unique(f"feed.xml?n=2&base={base}"))
    # Finding out that the URL is a feed, or downloading it as a video, reads no entry.
    video = add_video(client, url)
    assert finished(client, video["job_id"])["status"] == "succeeded"
    assert client.get(f"/api/videos/{video['id']}").json()["error"] == NOT_A_VIDEO
    started = client.post(f"/api/videos/{video['id']}/download")
    assert finished(client, started.json()["job_id"])["error_code"] == "playlist"
    # Its playlist skips both entries, refused.
    started = client.post("/api/jobs", json={"kind": "download_playlist", "url": url})
    assert started.status_code == 202, started.text
    parent = finished(client, started.json()["id"])
    assert parent["status"] == "succeeded" and parent["children"]["total"] == 0
    log = [line["message"] for line in client.get(f"/api/jobs/{parent['id']}/log").json()]
    assert sum("MVIDARR_ALLOWED_NETWORKS" in line for line in log) == 2, log
    assert internal.total() == 0


def test_it_refuses_hls_segments_on_an_internal_address(guarded_app, public, internal):
    base = quote(internal.base_url, safe="")
    job = download(guarded_app.client(), public.url(unique(f"hls/clip/index.m3u8?base={base}")))
    assert_refused_for_good(job, internal)


def test_it_refuses_a_thumbnail_on_an_internal_address(guarded_app, public, internal):
    thumb = quote(internal.url(unique("media/thumb.jpg")), safe="")
    client = guarded_app.client()
    job = download(client, public.url(unique(f"page/clip.html?thumb={thumb}")))
    assert job["status"] == "succeeded", job  # the video itself is on the allowed host

    assert_refused_for_good(thumbnail_job(client, job["result"]["video_id"]), internal)
    video = client.get(f"/api/videos/{job['result']['video_id']}").json()
    assert video["thumbnails"] == {}
