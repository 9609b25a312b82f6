"""Which job a log line is about.

The supervisor runs each attempt inside ``about_job(job_id)``; the logging
filter ``JobIdFilter`` (on the console handler, see ``LOGGING`` in the
settings) puts that id on every record logged meanwhile, from any module, as
``job_id``: the JSON log format shows it as a field of its own. A record that
names its job itself (``extra={"job_id": …}``) keeps that one. Nothing here
imports Django: the settings load it while logging is configured.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

current_job: ContextVar[str | None] = ContextVar("current_job", default=None)


@contextlib.contextmanager
def about_job(job_id) -> Iterator[None]:
    token = current_job.set(str(job_id))
    try:
        yield
    finally:
        current_job.reset(token)


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job_id", None) is None and (job_id := current_job.get()):
            record.job_id = job_id
        return True
