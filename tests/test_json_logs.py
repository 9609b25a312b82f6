"""``LOG_FORMAT=json``: every line the processes log is one JSON object, and
every line about a job names it (``job_id``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.apikit import add_video, finished, unique, wait_for
from tests.live import REPO, LiveApp, load_settings


def json_lines(app: LiveApp, name: str) -> list[dict]:
    lines = [line for line in app.log(name, tail=None).splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{name} logged a line that is not JSON: {line!r}")
    return records


def test_every_line_is_json_and_lines_about_a_job_carry_its_id(ops_app, media):
    client = ops_app.client("alice")
    jobs = []
    for path in ("media/clip.mp4", "media/missing.mp4"):
        video = add_video(client, media.url(unique(path)))
        jobs.append(client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    outcomes = {job_id: finished(client, job_id)["status"] for job_id in jobs}
    assert sorted(outcomes.values()) == ["failed", "succeeded"]

    runner = "serve" if ops_app.mode == "embedded" else "worker"

    def attempts_ended():
        # The attempt's last line comes after its status is visible.
        records = json_lines(ops_app, runner) + json_lines(ops_app, "serve")
        ended = {(r.get("job_id"), r.get("status")) for r in records if "attempt" in r}
        return records if outcomes.items() <= ended else None

    records = wait_for(attempts_ended, timeout=10)
    for record in records:
        assert {"ts", "level", "logger", "message"} <= record.keys(), record
    ready = "listening on" if ops_app.mode == "embedded" else "Worker ready"
    assert any(ready in r["message"] for r in json_lines(ops_app, runner))
    for job_id, status in outcomes.items():
        about = [r for r in records if r.get("job_id") == job_id]
        assert about, f"no line names job {job_id}"
        assert any(r["logger"] == "jobs.supervisor" and status in r["message"] for r in about)
    # Every line of the supervisor is about one job.
    assert all(r.get("job_id") for r in records if r["logger"] == "jobs.supervisor")


def test_a_log_format_other_than_plain_or_json_stops_start_up_with_a_clear_error():
    for value in ("bogus", "JSON ", "text", "plain,json"):
        result = load_settings(LOG_FORMAT=value)
        assert result.returncode != 0
        assert "LOG_FORMAT must be one of plain, json" in result.stderr
    serve = subprocess.run(
        [sys.executable, "manage.py", "serve", "--no-migrate"],
        cwd=REPO,
        env={**os.environ, "LOG_FORMAT": "bogus"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode != 0
    assert "LOG_FORMAT must be one of plain, json, not 'bogus'" in serve.stderr


@pytest.mark.parametrize("value", ["plain", "json", ""])
def test_plain_and_json_are_accepted(value):
    assert load_settings(LOG_FORMAT=value).returncode == 0
