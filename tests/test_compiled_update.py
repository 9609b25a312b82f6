"""jobs.models.compiled.CompiledUpdate: an UPDATE compiled once, run with new
values, its constants written into the SQL once on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from jobs.models import Job
from jobs.models.compiled import CompiledUpdate
from tests.pagekit import job_of

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
