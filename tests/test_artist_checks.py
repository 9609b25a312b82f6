"""Checking artists, in process: the artist page's "Check now" (and why it is
off), who may check whose artist, the live line about the latest check, and
the daily check of the monitored artists. The broker is a stub nobody
consumes; tests/test_imvdb_discovery.py runs the checks for real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.consumers import SUBJECT_RENDERERS
from jobs.models import Job
from mvidarr import config
from videos.discovery import NO_KEY, check_monitored_artists, imvdb_slugs
from videos.models import Artist


@pytest.fixture
def key(db):
    config.save({"IMVDB_API_KEY": "imvdb-key-for-the-tests"})


def _artist(user, name="Band", **fields) -> Artist:
    artist = Artist.objects.named(user.pk, name)
    Artist.objects.filter(pk=artist.pk).update(**fields)
    artist.refresh_from_db()
    return artist


def _checks(artist: Artist) -> list[Job]:
    return list(Job.objects.filter(kind="check_artist", subject=f"artist:{artist.pk}"))


def test_without_a_key_check_now_is_off_and_the_page_says_why(client, users):
    artist = _artist(users["alice"])
    client.force_login(users["alice"])
    html = client.get(f"/artists/{artist.pk}/").content.decode()
    button = html[html.index(f'action="/artists/{artist.pk}/check/"') :]
    assert "disabled>Check now</button>" in button[: button.index("</form>")]
    assert NO_KEY in html
    response = client.post(f"/artists/{artist.pk}/check/", follow=True)
    assert NO_KEY in response.content.decode() and not _checks(artist)


def test_check_now_queues_one_check_owned_by_the_artists_owner(client, users, key):
    artist = _artist(users["alice"])
    client.force_login(users["staff"])  # staff may check anyone's artist
    response = client.post(f"/artists/{artist.pk}/check/")
    assert response.status_code == 302 and response["Location"] == f"/artists/{artist.pk}/"
    client.post(f"/artists/{artist.pk}/check/")  # the same check, still queued
    (job,) = _checks(artist)
    assert job.owner == users["alice"] and job.queue == "metadata"
    assert job.params == {"artist_id": artist.pk} and job.label == "Check Band"
    client.force_login(users["alice"])
    html = client.get(f"/artists/{artist.pk}/").content.decode()
    line = html[html.index(f'id="artist-{artist.pk}-check"') :]
    assert f'id="progress-{job.pk}"' in line and f'href="/jobs/{job.pk}/"' in line
    assert "disabled>Check now" not in html


def test_another_users_artist_cannot_be_checked(client, users, key):
    artist = _artist(users["alice"])
    client.force_login(users["bob"])
    assert client.post(f"/artists/{artist.pk}/check/").status_code == 404
    assert not _checks(artist)


def test_the_live_line_of_a_check_reaches_only_the_artists_page_of_its_owner(users, key):
    artist = _artist(users["alice"])
    Job.objects.create(
        kind="check_artist",
        owner=users["alice"],
        subject=artist.subject,
        status=Job.Status.SUCCEEDED,
        result={"detail": "4 new of 12 on IMVDb"},
    )
    render = SUBJECT_RENDERERS["artist"]
    html = render(artist.subject, users["alice"], "artist")
    assert html.strip().startswith(
        f'<div id="artist-{artist.pk}-check" class="artist-check" hx-swap-oob'
    )
    assert "4 new of 12 on IMVDb" in html
    assert render(artist.subject, users["bob"], "artist") == ""
    assert render(artist.subject, users["alice"], "library") == ""


def test_an_artist_is_looked_for_on_imvdb_by_the_slugs_of_its_name(users):
    assert imvdb_slugs(_artist(users["alice"], "Robin  Thicke")) == ["robin-thicke"]
    assert imvdb_slugs(_artist(users["alice"], "T.I.")) == ["t.i.", "ti"]


def test_monitored_artists_are_checked_once_a_day_and_only_with_a_key(users, db):
    alice = users["alice"]
    watched = _artist(alice, "Watched", monitored=True)
    _artist(alice, "Ignored")
    assert check_monitored_artists() == 0  # no key: nothing to check them on
    config.save({"IMVDB_API_KEY": "imvdb-key-for-the-tests"})
    assert check_monitored_artists() == 1
    assert len(_checks(watched)) == 1 and not Job.objects.exclude(subject=watched.subject)
    assert check_monitored_artists() == 0  # checked today
    Job.objects.update(status=Job.Status.SUCCEEDED)
    Artist.objects.filter(pk=watched.pk).update(checked_at=timezone.now() - timedelta(days=1))
    assert check_monitored_artists() == 1 and len(_checks(watched)) == 2


def test_a_run_checks_its_share_of_the_monitored_artists_never_checked_first(users, key):
    alice = users["alice"]
    old = timezone.now() - timedelta(days=2)
    for n in range(200):
        _artist(alice, f"Artist {n}", monitored=True, checked_at=old)
    fresh = _artist(alice, "Fresh", monitored=True)
    assert check_monitored_artists() == 3  # 201 artists over 96 runs a day
    assert _checks(fresh)
