"""Database connections of the worker threads (a Dramatiq middleware).

django_dramatiq's ``DbConnectionsMiddleware`` closes a thread's connections
after every message when ``CONN_MAX_AGE`` is 0, as it is here. For SQLite
(embedded mode) that meant a new connection, with its PRAGMAs, for every
claim: a good part of the worker's CPU for short jobs. This one keeps a
worker thread's SQLite connection between messages, unless something went
wrong with it (an error, or a transaction left open); other databases are
left to Django as before (PostgreSQL's connections go back to their pool).
"""

from __future__ import annotations

from django import db
from django_dramatiq.middleware import DbConnectionsMiddleware


def tidy_connections(*args, **kwargs) -> None:
    for conn in db.connections.all(initialized_only=True):
        if conn.vendor != "sqlite":
            conn.close_if_unusable_or_obsolete()
        elif conn.errors_occurred or conn.in_atomic_block:
            conn.close()


class DbConnections(DbConnectionsMiddleware):
    before_process_message = tidy_connections
    after_process_message = tidy_connections
