"""Django's PostgreSQL backend, whose pool hands out connections without a
round trip to check them.

Django 5.2 gives psycopg's pool ``ConnectionPool.check_connection`` when
``CONN_HEALTH_CHECKS`` is on: an empty query before every connection it
hands out, so every request and every worker message waits on one more round
trip (a third of a no-op job's). A connection idle in the pool has nothing to
read unless its server went away: PostgreSQL ends a backend with an error
message and closes the socket. So health checks stay off, and a connection
whose socket has something to read (or is closed) is dropped before use.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


def is_quiet(conn) -> bool:
    """True if the idle connection is open and its socket has nothing to
    read: no error, no end of stream."""
    if conn.closed:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        """Take a connection as Django does; with the pool:

        1. A connection whose server went away is closed and given back: the
           pool forgets it, opens a replacement in the background and hands
           out the next one.
        2. After as many tries as the pool holds connections, the last one
           taken is used as it is: a query on a dead connection fails as it
           would have without any check.
        """
        connection = super().get_new_connection(conn_params)
        if self.pool is None:
            return connection
        for _ in range(self.pool.max_size):
            if is_quiet(connection):
                break
            connection.close()
            self.pool.putconn(connection)
            connection = super().get_new_connection(conn_params)
        return connection
