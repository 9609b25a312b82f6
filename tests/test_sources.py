"""Followed sources, checked here and now (the real child process, yt-dlp and
the local media server; the database of the test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job
from sources.checks import check_due_sources
from sources.models import SeenEntry, Source
from tests.sourcekit import FILTERS, feed, run
from videos.discovery import check_now
from videos.models import Artist, Video

# A check's attempt is watched from another thread, with its own connection:
# the rows must be committed for it to see them.
pytestmark = pytest.mark.django_db(transaction=True)


def follow(user, url: str, **fields) -> Source:
    return Source.objects.create(owner=user, url=url, **fields)


def check(source: Source) -> Job:
    job = run(source.request_check()[0])
    source.refresh_from_db()
    return job


def downloads(source: Source) -> list[Job]:
    subjects = [v.subject for v in source.videos]
    return list(Job.objects.filter(kind="download_video", subject__in=subjects))


def test_a_feed_with_three_new_entries_out_of_ten_gives_three_videos_and_downloads(users, media):
    url, key = feed(media)
    source = follow(users["alice"], url, **FILTERS)
    job = check(source)
    assert job.status == "succeeded", job.error
    assert sorted(v.title for v in source.videos) == ["First", "Second", "Third"]
    assert {v.artist.name for v in source.videos} == {"Band"}
    assert len(downloads(source)) == 3
    assert source.last_result == "3 new of 10 (7 skipped by the filters)"
    assert source.name == "Test feed (clip.mp4)"  # the feed's own title
    assert source.is_feed and source.etag and source.next_check_at > timezone.now()
    assert SeenEntry.objects.filter(source=source).count() == 10
    skipped = dict(source.seen.exclude(skipped="").values_list("title", "skipped"))
    assert skipped["Band - Live at Home"] == "title matches the exclude filter"
    assert skipped["Band - Concert"] == "longer than 600 s"
    assert skipped["Band - Old 6"] == "published before 2023-12-27"

    # Unchanged: one request answered 304, and no yt-dlp (it would fetch the feed again).
    again = check(source)
    assert again.result["new"] == 0 and again.result["unchanged"]
    assert source.last_result == "Feed unchanged"
    assert media.stats(key) == 2 and media.statuses(key) == {200: 1, 304: 1}
    assert len(downloads(source)) == 3


def test_a_deleted_video_is_never_added_again(users, media):
    url, _ = feed(media)
    source = follow(users["alice"], url, **FILTERS)
    check(source)
    first = source.videos.get(title="First")
    first.remove()
    Source.objects.filter(pk=source.pk).update(etag="", last_modified="")  # read it all again
    job = check(source)
    assert job.result["new"] == 0 and job.result["listed"] == 10
    assert not Video.objects.filter(url=first.url).exists()
    assert source.videos.count() == 2


def test_changing_the_filters_does_not_bring_back_skipped_entries(users, media):
    url, _ = feed(media)
    source = follow(users["alice"], url, **FILTERS)
    check(source)
    Source.objects.filter(pk=source.pk).update(
        title_exclude="", max_duration=None, published_after=None, etag="", last_modified=""
    )
    assert check(source).result["new"] == 0


def test_without_auto_download_new_videos_stay_wanted(users, media):
    url, _ = feed(media, titles=["A - One", "A - Two"], durations=[])
    source = follow(users["alice"], url, auto_download=False)
    check(source)
    assert [v.status for v in source.videos] == ["wanted", "wanted"]
    assert downloads(source) == []


def test_the_sources_artist_and_profile_are_the_videos(users, media):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Chosen")
    url, _ = feed(media, titles=["Other - Song"], durations=[])
    source = follow(alice, url, artist=artist, auto_download=False)
    check(source)
    video = source.videos.get()
    assert (video.artist, video.title) == (artist, "Song")


def test_a_url_already_in_the_library_is_linked_not_added_twice(users, media):
    alice = users["alice"]
    url, key = feed(media, titles=["A - One"], durations=[])
    mine = Video.objects.create(owner=alice, url=media.url(f"media/clip.mp4?item=1&key={key}"))
    source = follow(alice, url)
    job = check(source)
    assert job.result["new"] == 0 and list(source.videos) == [mine]
    assert downloads(source) == []


def test_a_page_that_is_not_a_feed_is_listed_by_yt_dlp(users, media):
    source = follow(users["alice"], media.url("page/clip.html?title=Band%20-%20Paged"))
    job = check(source)
    assert job.status == "succeeded", job.error
    assert source.is_feed is False
    assert [v.title for v in source.videos] == ["Paged (1)"]  # as download_playlist has it


def test_a_feed_listed_by_yt_dlp_gives_the_same_entries(users, media):
    url, _ = feed(media)
    source = follow(users["alice"], url, is_feed=False, auto_download=False, **FILTERS)
    job = check(source)
    assert job.status == "succeeded", job.error
    assert job.result["listed"] == 10
    url_by_feed = {e.url for e in SeenEntry.objects.filter(source=source)}
    Source.objects.filter(pk=source.pk).update(is_feed=None, etag="", last_modified="")
    assert check(source).result["new"] == 0  # the same keys, read by the fast path
    assert {e.url for e in SeenEntry.objects.filter(source=source)} == url_by_feed


def test_a_hostile_feed_fails_the_check_and_expands_nothing(users, media):
    source = follow(users["alice"], media.url("feed.xml?hostile=1"))
    job = check(source)
    assert job.status == "failed" and job.error_code == "hostile_feed"
    assert "entities" in source.last_result and source.last_ok is False
    assert source.next_check_at > timezone.now()  # the next one comes on schedule
    assert not source.videos.exists()


def test_a_failing_source_records_the_error_and_is_checked_again_later(users, media):
    source = follow(users["alice"], media.url("status/404"))
    job = check(source)
    assert job.status == "failed" and job.attempts == 1
    assert "404" in source.last_result and source.next_check_at > timezone.now()


def test_a_private_address_is_refused_at_check_time(users, media, settings):
    source = follow(users["alice"], media.url("feed.xml"))
    settings.ALLOW_PRIVATE_URLS = False
    job = check(source)
    assert job.status == "failed" and job.error_code == "refused_address"
    assert "Refused to connect" in source.last_result


# -- the schedule ---------------------------------------------------------------


def test_due_sources_are_checked_on_schedule_then_check_now_returns_the_same_job(users, media):
    url, _ = feed(media, titles=["A - One"], durations=[])
    alice = users["alice"]
    due = follow(alice, url, auto_download=False, next_check_at=timezone.now() - timedelta(1))
    later = follow(alice, url + "&x=1", next_check_at=timezone.now() + timedelta(hours=1))
    off = follow(alice, url + "&x=2", enabled=False, next_check_at=timezone.now() - timedelta(1))
    assert check_due_sources() == 1
    job = due.active_check()
    assert job is not None and later.active_check() is None and off.active_check() is None
    assert check_due_sources() == 0  # never two checks of one source
    assert due.request_check() == (job, False)  # "Check now" meanwhile: the same job
    run(job)
    due.refresh_from_db()
    assert due.videos.count() == 1 and due.next_check_at > timezone.now()
    now_job, created = due.request_check()
    assert created and run(now_job).status == "succeeded"


def test_sources_never_scheduled_get_their_first_check_spread_over_a_minute(users):
    alice = users["alice"]
    sources = [follow(alice, f"https://example.com/feed/{i}") for i in range(30)]
    check_due_sources()
    times = [s.next_check_at for s in Source.objects.filter(pk__in=[s.pk for s in sources])]
    now = timezone.now()
    assert all(now - timedelta(seconds=5) <= t <= now + timedelta(seconds=61) for t in times)
    assert len(set(times)) > 20


def test_checking_an_artist_checks_its_enabled_sources(users):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Band")
    mine = follow(alice, "https://example.com/a", artist=artist)
    follow(alice, "https://example.com/b", artist=artist, enabled=False)
    follow(alice, "https://example.com/c")
    jobs = check_now(artist)  # no IMVDb key: the sources alone
    assert [job.subject for job in jobs] == [mine.subject]
    assert check_now(artist) == jobs


def test_check_now_on_an_artist_with_sources_needs_no_imvdb_key(api, client, users):
    alice = users["alice"]
    artist = Artist.objects.named(alice.pk, "Band")
    lonely = Artist.objects.named(alice.pk, "Nobody")
    source = follow(alice, "https://example.com/feed", artist=artist)
    client.force_login(alice)
    assert "disabled>Check now" not in client.get(f"/artists/{artist.pk}/").content.decode()
    response = api("post", f"/artists/{artist.pk}/check")
    assert response.status_code == 202, response.content
    (job_id,) = response.json()["job_ids"]
    assert Job.objects.get(pk=job_id).subject == source.subject
    assert api("post", f"/artists/{lonely.pk}/check").status_code == 400


@pytest.mark.parametrize("every", [4, 525_601])
def test_check_every_is_bounded(users, every):
    source = Source(owner=users["alice"], url="https://example.com/f", check_every=every)
    with pytest.raises(Exception, match="check_every"):
        source.full_clean()
