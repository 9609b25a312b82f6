"""What the commands that work on jobs share: whose jobs, and how to reach them.

``reach()`` decides how a command starts, cancels and follows jobs:

1. Scaled mode (``REDIS_URL``): the model's methods (the broker is Redis, so
   the workers get the job) and the user's group on the Redis channel layer.
2. Embedded mode with ``serve`` running on this data dir (``mvidarr.serving``):
   that server's API and ``/ws/jobs/`` socket, with a temporary API key, since
   its process holds the broker and the in-memory channel layer.
3. Embedded mode without ``serve`` (``run_here``): this process runs the
   workers for as long as it follows the job, as ``serve`` would, with the
   publisher and the follower on one loop of the in-memory channel layer. A
   job left behind (``--detach``, a failure to stop) stays queued in the
   database and ``serve`` runs it when it starts.

In every case the database is read too, and is enough on its own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from jobs import publisher
from jobs.follow import ChannelSource, LocalControl, Source
from mvidarr import serving
from mvidarr.runtime import finish_held, start_workers, stop_workers
from mvidarr.serveclient import ServeControl, SocketSource, temporary_key

# How long a command that runs the workers waits for the jobs that followed its own.
FOLLOW_UPS_TIMEOUT = 60


def pick_user(username: str | None):
    """The user named, or else the only superuser."""
    users = get_user_model().objects
    if username:
        if user := users.filter(username=username).first():
            return user
        raise CommandError(f"No user named {username!r}.")
    admins = list(users.filter(is_superuser=True, is_active=True)[:2])
    if len(admins) != 1:
        found = "no superuser" if not admins else "several superusers"
        raise CommandError(f"There is {found}: say whose library it is with --user USERNAME.")
    return admins[0]


@dataclass
class Reach:
    control: LocalControl | ServeControl
    source: Source | None
    # This process runs the workers (embedded mode without serve).
    here: bool = False

    def finish(self) -> None:
        """Once the job followed has ended: when this process runs the
        workers, let the jobs it caused (thumbnails, …) end too."""
        if self.here:
            finish_held(FOLLOW_UPS_TIMEOUT)


@contextlib.contextmanager
def reach(user, run_here: bool = True) -> Iterator[Reach]:
    """How to start and follow ``user``'s jobs (see the module's docstring);
    without ``run_here`` no workers start here (a command that only cancels)."""
    if not settings.EMBEDDED:
        source = ChannelSource(user.pk)
        try:
            yield Reach(LocalControl(), source)
        finally:
            source.close()
            publisher.get().drain()
        return
    if url := serving.find():
        with temporary_key(user) as key:
            source = SocketSource(url, key)
            try:
                yield Reach(ServeControl(url, key), source)
            finally:
                source.close()
        return
    if not run_here:
        yield Reach(LocalControl(), None)
        return
    source = ChannelSource(user.pk)
    publisher.get().bind_loop(source.loop)
    # The workers' INFO lines would write over the bars.
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    workers = start_workers()
    try:
        yield Reach(LocalControl(), source, here=True)
    finally:
        stop_workers(workers)
        publisher.get().drain()
        source.close()
        quiet.setLevel(level)
