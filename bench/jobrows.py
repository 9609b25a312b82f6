"""The job rows, read without Django: a plain connection to the app's
database (SQLite file or PostgreSQL), so that polling costs no Django
start-up and no request."""

from __future__ import annotations

import datetime
import sqlite3
from typing import Any

import psycopg

from tests.live import SQLITE_FILE

TERMINAL = ("succeeded", "failed", "cancelled")


class JobRows:
    """The rows of one kind of job, through a plain connection to the app's
    database (SQLite in embedded mode, PostgreSQL in Redis mode)."""

    def __init__(self, app, kind: str = "ping") -> None:
        self.kind = kind
        if getattr(app, "_pg_db", None):
            self.conn = psycopg.connect(app.env["DATABASE_URL"], autocommit=True)
            self.ph = "%s"
        else:
            path = app.data_dir / SQLITE_FILE
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            self.ph = "?"

    def close(self) -> None:
        self.conn.close()

    def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("%s", self.ph), args)
        rows = cur.fetchall()
        cur.close()
        return rows

    def finished(self) -> int:
        return self._all(
            "SELECT count(*) FROM jobs_job WHERE kind = %s AND status IN (%s, %s, %s)",
            (self.kind, *TERMINAL),
        )[0][0]

    def rows(self) -> list[tuple[str, float, float | None, float | None]]:
        """(status, created, started, finished) as epoch seconds."""
        return [
            (status, _epoch(c), _epoch(s), _epoch(f))
            for status, c, s, f in self._all(
                "SELECT status, created_at, started_at, finished_at FROM jobs_job WHERE kind = %s",
                (self.kind,),
            )
        ]


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.timestamp()
