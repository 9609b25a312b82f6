"""The ``ping`` kind: a job that does nothing. It shows the whole pipeline
(broker, worker, database, live updates) answers, and lets benchmarks measure
the job system's own overhead."""

from __future__ import annotations

from typing import Any

from jobs.kinds import Kind
from jobs.models import Job


class Ping(Kind):
    name = "ping"

    def start(self, owner, data: dict[str, Any]) -> Job:
        return Job.submit(self.name, owner, label="Ping")[0]

    def run_inline(self, job: Job) -> dict[str, Any]:
        return {"pong": True}
