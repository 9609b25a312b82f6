"""The IMVDb client against a local IMVDb (tests.imvdbkit): what it asks,
how it waits when told to, what it tries again, and what it says when it
cannot go on."""

from __future__ import annotations

import time
from multiprocessing import Pipe

import pytest

from integrations import imvdb
from jobs import kinds
from jobs.child import Reporter, WorkError
from jobs.models import Job
from mvidarr import config
from tests.imvdbkit import KEY, FakeImvdb, FakeVideo
from tests.integrationkit import Answer, closed_port

LINKS = {"youtube": "https://yt.example/watch?v={id}", "vimeo": "https://vimeo.example/{id}"}


@pytest.fixture
def fake():
    with FakeImvdb() as server:
        yield server


def client(fake, key: str = KEY) -> imvdb.Client:
    return imvdb.Client(key, fake.api_url)


def discover(fake, **params) -> tuple[dict, list]:
    """Run the child's work in this process; its result and what it reported."""
    ours, theirs = Pipe()
    params = {"key": KEY, "url": fake.api_url, "links": LINKS, "seen": [], **params}
    result = imvdb.discover(params, Reporter(theirs))
    sent = []
    while ours.poll():
        sent.append(ours.recv())
    return result, sent


def test_every_request_carries_the_key_in_its_header_and_never_in_the_url(fake):
    fake.add_artist("Robin Thicke")
    with client(fake) as c:
        assert [r["slug"] for r in c.search_artists("Robin Thicke")] == ["robin-thicke"]
    (call,) = fake.calls
    assert call.headers["IMVDB-APP-KEY"] == KEY
    assert call.path == "/api/v1/search/entities" and call.query == {"q": ["Robin Thicke"]}


def test_a_rate_limited_request_waits_as_long_as_retry_after_says(fake):
    fake.trouble = [Answer(429, {"error": "Too many requests"}, {"Retry-After": "1"})]
    with client(fake) as c:
        assert c.search_artists("anyone") == []
    first, second = fake.calls
    assert second.at - first.at >= 1.0


def test_a_wait_longer_than_a_minute_is_left_to_the_jobs_own_retry(fake):
    fake.trouble = [Answer(429, None, {"Retry-After": "3600"})]
    with client(fake) as c, pytest.raises(imvdb.ImvdbError) as caught:
        c.search_artists("anyone")
    assert caught.value.code == "rate_limited" and caught.value.transient
    assert "wait 3600 s" in str(caught.value) and len(fake.calls) == 1


def test_a_server_error_is_asked_again(fake):
    fake.trouble = [Answer(500, {"error": "oops"})]
    with client(fake) as c:
        assert c.search_artists("anyone") == []
    assert len(fake.calls) == 2


def test_a_refused_key_fails_at_once_in_plain_words_that_never_show_the_key(fake):
    secret = "not-the-right-key-1234567890"
    with client(fake, secret) as c, pytest.raises(imvdb.ImvdbError) as caught:
        c.search_artists("anyone")
    error = caught.value
    assert str(error) == "IMVDb refused the API key (HTTP 401): check it on the Settings page"
    assert error.code == "imvdb_key" and not error.transient
    assert secret not in repr(error.as_dict()) and len(fake.calls) == 1


def test_no_key_asks_for_one_before_any_request(fake):
    with pytest.raises(imvdb.ImvdbError, match="Set an IMVDb API key") as caught:
        imvdb.Client("", fake.api_url)
    assert caught.value.code == "not_configured" and fake.calls == []


def test_an_unreachable_imvdb_is_tried_four_times_then_left_to_the_jobs_retry():
    started = time.monotonic()
    url = f"http://127.0.0.1:{closed_port()}/api/v1"
    with imvdb.Client(KEY, url) as c, pytest.raises(imvdb.ImvdbError) as caught:
        c.artist_videos(1)
    assert caught.value.code == "imvdb_unavailable" and caught.value.transient
    assert "(4 tries)" in str(caught.value)
    assert time.monotonic() - started >= imvdb.BACKOFF * (1 + 2 + 4)


def test_an_artist_imvdb_does_not_have_is_not_found(fake):
    with client(fake) as c, pytest.raises(imvdb.ImvdbError) as caught:
        c.artist_videos(42)
    assert caught.value.code == "not_found" and not caught.value.transient


def test_the_token_bucket_spaces_requests_beyond_its_burst():
    bucket = imvdb.TokenBucket(rate=20, burst=2)
    started = time.monotonic()
    for _ in range(6):
        bucket.take()
    assert time.monotonic() - started >= 4 / 20 * 0.9


def test_discovery_finds_the_artist_by_slug_though_imvdb_ranks_a_namesake_first(fake):
    fake.add_artist("Robin George")  # first in IMVDb's answer, not our artist
    videos = [
        FakeVideo("Blurred Lines", 2013, ("Diane Martel",), (("youtube", "zwT6DZCQi9k"),)),
        FakeVideo("Lost Without U", 2006, ("A", "B"), (("vimeo", 64611906), ("youtube", "x1"))),
        FakeVideo("Unreleased", None, (), ()),  # no source anyone can fetch
        FakeVideo("Elsewhere", 2001, (), (("dailymotion", "x7"),)),
    ]
    thicke = fake.add_artist("Robin Thicke", videos)
    result, sent = discover(fake, name="Robin Thicke", slugs=["robin-thicke"])
    assert result["imvdb_id"] == thicke.id and result["searched"] and result["total"] == 4
    found = {video["title"]: video for video in result["videos"]}
    assert found["Blurred Lines"] == {
        "imvdb_id": videos[0].id,
        "title": "Blurred Lines",
        "year": 2013,
        "director": "Diane Martel",
        "links": ["https://yt.example/watch?v=zwT6DZCQi9k"],
    }
    assert found["Lost Without U"]["links"] == [  # the primary source first
        "https://vimeo.example/64611906",
        "https://yt.example/watch?v=x1",
    ]
    assert found["Lost Without U"]["director"] == "A, B"
    assert found["Unreleased"]["links"] == found["Elsewhere"]["links"] == []
    assert all(c.query["include"] == ["sources"] for c in fake.requests("/video/"))
    stages = [m[1]["stage"] for m in sent if m[0] == "progress"]
    assert stages[:3] == ["searching", "listing", "fetching"]


def test_discovery_asks_nothing_about_videos_seen_before(fake):
    videos = [FakeVideo("One", 2001, (), (("youtube", "a"),)), FakeVideo("Two")]
    artist = fake.add_artist("Band", videos)
    result, _ = discover(fake, name="Band", slugs=["band"], imvdb_id=artist.id, seen=[videos[0].id])
    assert [v["title"] for v in result["videos"]] == ["Two"] and not result["searched"]
    assert [c.path for c in fake.requests("/video/")] == [f"/api/v1/video/{videos[1].id}"]
    assert fake.requests("/search/") == []


def test_no_artist_of_that_name_finds_nothing_without_failing(fake):
    fake.add_artist("Robin George")
    result, _ = discover(fake, name="Robin Thicke", slugs=["robin-thicke"])
    assert result == {"imvdb_id": None, "total": 0, "videos": []}
    assert fake.requests("/entity/") == []


def test_test_the_key_on_the_settings_page_is_a_job_that_asks_imvdb(client, users, fake):
    client.force_login(users["staff"])
    client.post("/settings/imvdb/test/")
    assert not Job.objects.exists()  # no key yet: nothing to test
    config.save({"IMVDB_API_KEY": KEY, "IMVDB_URL": fake.api_url})
    assert client.post("/settings/imvdb/test/").status_code == 302
    (job,) = Job.objects.filter(kind="check_imvdb")
    assert job.subject == "integration:imvdb" and fake.calls == []  # never from the request
    assert kinds.get("check_imvdb").run_inline(job) == {
        "detail": f"IMVDb at {fake.api_url} accepted the key"
    }
    fake.key = "another-key"
    with pytest.raises(WorkError, match="IMVDb refused the API key") as caught:
        kinds.get("check_imvdb").run_inline(job)
    assert not caught.value.transient
