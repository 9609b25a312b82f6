"""Counters of events that happen in every process (a progress frame sent by
a worker, say), added up for the whole deployment.

1. ``add()`` counts in this process's memory: one dict item, no lock, on
   the thread that owns the counters (the publisher's loop, which flushes
   them too); ``add_threadsafe()`` takes a lock, for counts from any thread.
2. In scaled mode ``flush_forever()`` (a task on the publisher's loop) adds
   what this process counted since its last flush to one Redis hash, once a
   second and only when something changed: one HINCRBY per changed field, in
   one MULTI/EXEC round trip. A flush that failed wrote nothing, and its
   counts go with the next one.
3. ``totals()`` is what the deployment counted: in scaled mode the Redis hash
   (at most a second behind, and it outlives every process, so the sums never
   step back when a worker stops); in embedded mode this process's counts.

A process killed outright loses at most its last second of counts. Counting
in the ``WorkerBeat`` row instead would lose a process's whole count when its
row is deleted, and a sum that steps back reads as a counter reset.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter

from django.conf import settings
from redis import Redis
from redis import asyncio as aioredis

logger = logging.getLogger(__name__)

FLUSH_EVERY = 1.0


class Counters:
    def __init__(self, key: str) -> None:
        self.key = key
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()  # this process, since it started
        self._flushed: Counter[str] = Counter()  # the part of it already in Redis

    def add(self, name: str, n: int = 1) -> None:
        """Count, on the thread that owns the counters (the publisher's loop):
        no lock on the hot path. A name is counted either here or through
        ``add_threadsafe``, never both, so no increment is lost."""
        self._counts[name] += n

    def add_threadsafe(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def local(self) -> dict[str, int]:
        return dict(self._counts)  # one C-level copy: atomic under the GIL

    def totals(self, client: Redis | None) -> dict[str, int]:
        """The deployment's counts: from Redis (``client``) in scaled mode, else this process's."""
        if client is None:
            return self.local()
        return {k.decode(): int(v) for k, v in client.hgetall(self.key).items()}

    async def flush(self, client: aioredis.Redis) -> None:
        """Add what was counted since the last flush to Redis (on the owning loop)."""
        counts = self.local()
        delta = {k: n - self._flushed[k] for k, n in counts.items() if n > self._flushed[k]}
        if not delta:
            return
        async with client.pipeline(transaction=True) as pipe:
            for name, n in delta.items():
                pipe.hincrby(self.key, name, n)
            await pipe.execute()
        self._flushed.update(delta)

    async def flush_forever(self) -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush(client)
            except Exception:  # Redis is away for a moment: the counts wait
                logger.debug("Could not flush the counters to Redis", exc_info=True)
