"""What every job socket shares: its user's group, the per-user cap, the
recheck of its credential, and fragments rendered once for all sockets.

1. On connect a socket takes a place among its user's sockets (at most
   ``MVIDARR_WS_MAX_PER_USER``, across every web process in scaled mode) or is
   closed with 4429. Places are refreshed by the socket's housekeeping loop and
   expire by themselves if a process dies.
2. The same loop re-joins the group (a restarted Redis forgot it) and, every
   ``MVIDARR_WS_RECHECK`` seconds, checks the credential the socket was opened
   with: a logged-out or changed-password session, a deactivated user or a
   revoked API key closes it with 4401. A socket opened with an API key also
   joins the key's group, so that revoking the key closes it at once
   (``ApiKey.revoke`` sends ``sockets.close`` there).
3. ``shared_render`` renders one fragment once per key however many sockets
   of this process ask for it at about the same time (one user with the
   Activity page open in 60 tabs costs one render per change, not 60).
4. Fragments that need the database are rendered on a few threads of their
   own (``on_render_threads``), not on the one thread that channels gives all
   sockets' database work: a render waits for no other socket's queries, and
   job events need no trip through that thread at all (``dispatch``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings
from redis import asyncio as aioredis

from jobs import publisher
from mvidarr.roles import library_owner_id
from mvidarr.wsauth import still_valid

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429
# Sockets join their group again this often (seconds): after a Redis restart
# the channel layer has forgotten every group.
REJOIN_EVERY = 10
PLACE_TTL = 3 * REJOIN_EVERY
# A user's places in Redis (scaled mode): a sorted set named with their id.
PLACES_PREFIX = "mvidarr:sockets:"

logger = logging.getLogger(__name__)
# Threads that render the sockets' fragments (shared_render renders each once).
_render_threads = ThreadPoolExecutor(settings.FRAGMENT_THREADS, thread_name_prefix="fragments")


def on_render_threads(func):
    """``func`` (sync, may query the database) as a coroutine function run on
    the render threads. Like on the shared thread, channels' wrapper closes
    the thread's stale connections before and after each call: with
    ``CONN_MAX_AGE`` 0 (SQLite) each call opens and closes its own, with
    PostgreSQL's pool it borrows one and gives it back."""
    return database_sync_to_async(func, thread_sensitive=False, executor=_render_threads)


def group_for(user) -> str:
    """The job events a user's sockets hear: all for staff, else those of the
    library the user sees (a viewer's owner's)."""
    return publisher.ALL_GROUP if user.is_staff else publisher.user_group(library_owner_id(user))


class Places:
    """The open sockets of each user: a Redis sorted set per user in scaled
    mode (member = channel name, score = expiry), a dict in embedded mode."""

    def __init__(self) -> None:
        self._local: dict[int, dict[str, float]] = {}
        self._redis = None

    def _client(self):
        if self._redis is None and not settings.EMBEDDED:
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL)
        return self._redis

    async def take(self, user_id: int, channel: str) -> bool:
        """Hold (or refresh) a place; False when the user already has the most."""
        now = time.time()
        client = self._client()
        if client is None:
            places = self._local.setdefault(user_id, {})
            for name, expiry in list(places.items()):
                if expiry < now:
                    del places[name]
            if channel not in places and len(places) >= settings.WS_MAX_PER_USER:
                return False
            places[channel] = now + PLACE_TTL
            return True
        key = f"{PLACES_PREFIX}{user_id}"
        async with client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zscore(key, channel)
            pipe.zcard(key)
            _, held, count = await pipe.execute()
        if held is None and count >= settings.WS_MAX_PER_USER:
            return False
        await client.zadd(key, {channel: now + PLACE_TTL})
        await client.expire(key, PLACE_TTL)
        return True

    async def give_back(self, user_id: int, channel: str) -> None:
        client = self._client()
        if client is None:
            self._local.get(user_id, {}).pop(channel, None)
        else:
            await client.zrem(f"{PLACES_PREFIX}{user_id}", channel)

    def held_here(self) -> int:
        """Places held in this process's dict (embedded mode: every socket)."""
        now = time.time()
        return sum(
            expiry >= now
            for places in list(self._local.values())
            for expiry in list(places.values())
        )


places = Places()


class JobEvents:
    """Base of the job consumers: connect, housekeeping, disconnect."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user = user
        self.group = await database_sync_to_async(group_for)(user)
        self.tasks: set[asyncio.Task] = set()
        self.closed = False
        if not await places.take(user.pk, self.channel_name):
            await self.accept()  # so that the client learns why: close code 4429
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.placed = True
        self.groups_joined = [self.group]
        if key_id := self.scope.get("api_key_id"):
            self.groups_joined.append(publisher.key_group(key_id))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.background(self._housekeeping())
        await self.on_connect()

    async def dispatch(self, message: dict) -> None:
        """Job events go straight to ``job_event``. Channels' own ``dispatch``
        first closes stale database connections, a trip through the one
        thread that every socket's database work shares; ``job_event`` uses
        no database on that thread, and at dozens of frames a second those
        trips, not the frames, kept the sockets busy."""
        if message.get("type") == "job.event":
            await self.job_event(message)
            return
        await super().dispatch(message)

    def background(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("A socket's background work failed", exc_info=error)

    async def _housekeeping(self) -> None:
        recheck = settings.WS_RECHECK_EVERY
        next_rejoin, next_check = REJOIN_EVERY, recheck
        while True:
            wait = min(next_rejoin, next_check)
            await asyncio.sleep(wait)
            next_rejoin, next_check = next_rejoin - wait, next_check - wait
            try:
                if next_check <= 0:
                    next_check = recheck
                    if not await database_sync_to_async(still_valid)(self.scope):
                        await self.close(code=CLOSE_UNAUTHORIZED)
                        return
                if next_rejoin <= 0:
                    next_rejoin = REJOIN_EVERY
                    for group in self.groups_joined:
                        await self.channel_layer.group_add(group, self.channel_name)
                    await places.take(self.user.pk, self.channel_name)
            except Exception:  # Redis or the database is away; the next round tries again
                continue

    async def sockets_close(self, message: dict) -> None:
        """The credential this socket was opened with was revoked."""
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for task in getattr(self, "tasks", ()):
            task.cancel()
        if getattr(self, "placed", False):
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            await places.give_back(self.user.pk, self.channel_name)


_inflight: dict[tuple, asyncio.Task] = {}
_done: OrderedDict[tuple, str] = OrderedDict()
KEEP_DONE = 512


async def shared_render(key: tuple, render: Callable[[], Awaitable[str]]) -> str:
    """``render()`` once for every caller with the same key: callers during a
    render wait for it, later ones get the kept result (the last 512 keys).
    Keys must name what makes the fragment differ: the user, the page, the
    event it reflects. The render is a task of its own: a caller that goes
    (its socket closed) leaves it to finish for the others."""
    if key in _done:
        return _done[key]
    if (task := _inflight.get(key)) is None:
        task = _inflight[key] = asyncio.ensure_future(_render_and_keep(key, render))
    return await asyncio.shield(task)


async def _render_and_keep(key: tuple, render: Callable[[], Awaitable[str]]) -> str:
    try:
        html = await render()
    finally:
        _inflight.pop(key, None)
    _done[key] = html
    while len(_done) > KEEP_DONE:
        _done.popitem(last=False)
    return html
