"""mvidarr.postgres: the pool drops a connection whose server went away
before handing it out, and hands out a healthy one without a query."""

from __future__ import annotations

import select

import pytest
from django.db import connection

from mvidarr.postgres.base import DatabaseWrapper

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pool"),
    pytest.mark.django_db,
]


@pytest.fixture
def pooled():
    """A second connection to the test database, through a pool of one."""
    options = {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1, "max_size": 1}}
    wrapper = DatabaseWrapper({**connection.settings_dict, "OPTIONS": options}, alias="pool_test")
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def run(wrapper: DatabaseWrapper, sql: str):
    with wrapper.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def server(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_a_pooled_connection_whose_backend_was_ended_is_replaced_before_use(pooled):
    pid = run(pooled, "SELECT pg_backend_pid()")
    raw = pooled.connection
    pooled.close()  # back to the pool
    assert server("SELECT pg_terminate_backend(%s)", pid)
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server never closed the connection"

    assert run(pooled, "SELECT pg_backend_pid()") != pid
    assert run(pooled, "SELECT 41 + 1") == 42


def test_a_healthy_pooled_connection_is_handed_out_without_a_query(pooled):
    pid = run(pooled, "SELECT pg_backend_pid()")
    pooled.close()
    pooled.ensure_connection()
    assert pooled.connection.info.backend_pid == pid
    # The backend's last statement is still the one before it went back to
    # the pool: no check query ran on the way out.
    last = "SELECT query FROM pg_stat_activity WHERE pid = %s"
    assert server(last, pid) == "SELECT pg_backend_pid()"
