"""mvidarr.compiled: a SELECT or an UPDATE compiled once, run with new values,
its constants written into the SQL once on PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from jobs.models import Job, JobLog
from mvidarr.compiled import CompiledSelect, CompiledUpdate, insert_then_update
from mvidarr.models import ApiKey
from tests.pagekit import job_of, video_of
from videos.models import Video

AWKWARD = "it's 100% done; %s %% %(name)s \\ -- DROP TABLE jobs_job;"


def label_update() -> CompiledUpdate:
    """The job ``pk``, if its label has a percent sign, gets awkward constants."""

    def build(p: dict) -> tuple:
        rows = Job.objects.filter(pk=p["pk"], label__contains="%")
        return rows, {"error": AWKWARD, "error_code": "", "percent": None, "stage": p["stage"]}

    placeholders = {"pk": ("id", uuid.UUID(int=1)), "stage": ("stage", "\x00")}
    return CompiledUpdate(Job, placeholders, build)


def test_a_compiled_update_changes_only_its_rows_and_writes_constants_as_they_are(users):
    sale, plain = job_of(users["alice"], label="50% off"), job_of(users["alice"], label="plain")
    update = label_update()
    for _ in range(2):  # compiled once, run twice
        changed = update.run(pk=sale.pk, stage="one % two")
        assert [(j.pk, j.error, j.stage) for j in changed] == [(sale.pk, AWKWARD, "one % two")]
    assert update.run(pk=plain.pk, stage="x") == []
    sale.refresh_from_db(), plain.refresh_from_db()
    assert (sale.error, sale.stage, sale.percent) == (AWKWARD, "one % two", None)
    assert (plain.error, plain.stage) == ("", plain.stage)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite binds natively")
def test_only_the_values_of_each_run_travel_as_parameters(users):
    sent = []

    def spy(execute, sql, params, many, context):
        sent.append(list(params))
        return execute(sql, params, many, context)

    job = job_of(users["alice"], label="50% off")
    with connection.execute_wrapper(spy):
        label_update().run(pk=job.pk, stage="two")
    assert [sorted(map(str, params)) for params in sent] == [sorted([str(job.pk), "two"])]


def keys_by_name() -> tuple[CompiledSelect, list]:
    """Keys by name, with their user and its viewer row; and each build."""
    builds = []

    def build(p: dict):
        builds.append(p)
        return ApiKey.objects.select_related("user", "user__viewer").filter(name=p["name"])

    return CompiledSelect(ApiKey, {"name": ("name", "\x00")}, build), builds


def test_a_compiled_select_gives_what_the_queryset_gives_with_its_related_rows(
    users, viewer, django_assert_num_queries
):
    ApiKey.issue(users["alice"], name="50% off")
    ApiKey.issue(viewer, name="50% off", scopes=["read"])
    ApiKey.issue(users["bob"], name="other")
    select, builds = keys_by_name()
    orm = ApiKey.objects.select_related("user", "user__viewer").filter(name="50% off")
    for _ in range(2):
        with django_assert_num_queries(1):  # the related rows came along
            found = sorted(select.run(name="50% off"), key=lambda k: k.pk)
            seen = [(k.user.username, getattr(k.user, "viewer", None)) for k in found]
        assert seen == [("alice", None), ("vera", viewer.viewer)]
        assert seen[1][1].owner_id == users["alice"].pk
        expected = sorted(orm, key=lambda k: k.pk)
        assert [(k.pk, k.scopes, k.created_at) for k in found] == [
            (k.pk, k.scopes, k.created_at) for k in expected
        ]
        assert found[0].created_at.tzinfo is not None and found[1].scopes == ["read"]
    assert len(builds) == 1  # compiled once
    assert select.run(name="nobody's") == []


def test_compiled_values_list_rows_are_tuples_of_the_fields(users):
    video = video_of(users["alice"], "A % title")
    select = CompiledSelect(
        Video,
        {"url": ("url", "\x00")},
        lambda p: Video.objects.filter(url=p["url"]).values_list("pk", "title", "created_at"),
    )
    assert select.run(url=video.url) == [(video.pk, "A % title", video.created_at)]


def test_what_cannot_be_compiled_is_an_error_at_once(users):
    missing = CompiledSelect(Video, {"pk": ("id", -1)}, lambda p: Video.objects.filter(pk=5))
    with pytest.raises(ImproperlyConfigured, match="Placeholder 'pk'"):
        missing.run(pk=5)
    counted = CompiledSelect(
        Video, {"pk": ("id", -1)}, lambda p: Video.objects.filter(pk=p["pk"]).annotate(t=F("title"))
    )
    with pytest.raises(ImproperlyConfigured, match="Annotations"):
        counted.run(pk=5)
    flat = CompiledSelect(
        Video,
        {"pk": ("id", -1)},
        lambda p: Video.objects.filter(pk=p["pk"]).values_list("pk", flat=True),
    )
    with pytest.raises(ImproperlyConfigured, match="instances and tuples"):
        flat.run(pk=5)


@pytest.mark.parametrize("pk", [0, -1, 2**63, 10**30])
def test_a_video_is_found_only_by_who_may_see_it(users, viewer, pk):
    alice, bob, staff = users["alice"], users["bob"], users["staff"]
    mine = video_of(alice, "Song", artist="Band")
    for user in (alice, viewer, staff):
        found = Video.objects.get_for_user(user, mine.pk)
        assert (found, found.artist.name) == (mine, "Band")
    for user, video_id in ((bob, mine.pk), (alice, pk), (staff, pk)):
        with pytest.raises(Video.DoesNotExist):
            Video.objects.get_for_user(user, video_id)


def queued_job(user, video) -> tuple[Job, JobLog]:
    job = Job(kind="download_video", owner=user, subject=video.subject, queue="video_downloads")
    return job, job.log_line("info", "Queued 100% %s")


def test_rows_and_a_change_are_written_together_as_saved_rows(users):
    video = video_of(users["alice"])
    job, line = queued_job(users["alice"], video)
    insert_then_update([job, line], (Video, [video.pk], {"status": "downloading"}))
    assert not job._state.adding and Job.objects.get(pk=job.pk).created_at == job.created_at
    assert [(r.job_id, r.message) for r in JobLog.objects.all()] == [(job.pk, "Queued 100% %s")]
    video.refresh_from_db()
    assert video.status == "downloading"
    job.stage = "saved again"
    job.save()  # an UPDATE now
    assert Job.objects.get(pk=job.pk).stage == "saved again"


def test_a_change_gives_its_values_to_the_rows_it_names_and_no_others(users):
    first, second, other = (video_of(users["alice"], f"Song {n}") for n in range(3))
    job, line = queued_job(users["alice"], first)
    change = (Video, [first.pk, second.pk], {"status": "downloading", "error": "100% %s"})
    insert_then_update([job, line], change)
    changed = Video.objects.filter(status="downloading", error="100% %s")
    assert sorted(changed.values_list("pk", flat=True)) == [first.pk, second.pk]
    assert Video.objects.get(pk=other.pk).status == "wanted"


@pytest.mark.parametrize("outer", [False, True])
@pytest.mark.django_db(transaction=True)  # outer=False: autocommit, as a request runs
def test_rows_that_break_a_constraint_write_nothing_and_leave_the_transaction_usable(users, outer):
    video = video_of(users["alice"])
    job_of(users["alice"], video)  # an active download of the video already
    job, line = queued_job(users["alice"], video)
    change = (Video, [video.pk], {"status": "downloading"})
    with transaction.atomic() if outer else contextlib.nullcontext():
        with pytest.raises(IntegrityError):
            insert_then_update([job, line], change)
        assert Job.objects.count() == 1  # the transaction still answers
    assert (JobLog.objects.count(), Video.objects.get(pk=video.pk).status) == (0, "wanted")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_rows_and_a_change_are_one_statement_outside_a_transaction(users):
    video = video_of(users["alice"])
    job, line = queued_job(users["alice"], video)
    sent = []

    def spy(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        insert_then_update([job, line], (Video, [video.pk], {"status": "x"}))
    assert len(sent) == 1 and Video.objects.get(pk=video.pk).status == "x"
