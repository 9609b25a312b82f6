"""Per-process publisher of job state to the channel layer.

1. Any thread calls ``progress(event)`` or ``status(event)``; both only hand
   the event to one long-lived asyncio loop, so no caller ever waits on Redis.
2. Progress is state, not a log: per job only the latest event is kept and it
   is sent at most every ``MIN_INTERVAL`` seconds (a trailing send makes sure
   the last value arrives). Status changes go out at once, after any pending
   progress of the same job, so subscribers never see a stale percentage
   after "succeeded".
3. Sends run on a few sender tasks, each owning a share of the jobs, so one
   job's events stay in order while many jobs don't queue behind each other.
   A sender sends the events waiting in its queue together, to both their
   groups, in one batch (``jobs.channel_layer``: two round trips to Redis
   for the batch, not two to four per event and group).

Embedded mode uses the in-memory channel layer, which only wakes consumers
when the send runs on the server's own loop: ``bind_loop()`` is called with
that loop, and until then events are dropped (no consumer can exist yet).

``frames`` counts what happens to the frames for ``GET /metrics``: sent (by
type), or dropped because a newer progress frame of the same job replaced
it (``superseded``), because no loop was bound yet (``unbound``) or because
the channel layer failed (``error``). See ``jobs.counters``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from jobs.counters import Counters
from jobs.status import ACTIVE

logger = logging.getLogger(__name__)

MIN_INTERVAL = 0.25
SENDERS = 4
# A sender sends at most this many waiting events at once (``send_many``).
BATCH = 50
ALL_GROUP = "jobs-all"

frames = Counters("mvidarr:frames")


def user_group(user_id: int) -> str:
    return f"jobs-user-{user_id}"


def key_group(key_id: int) -> str:
    """The sockets opened with one API key (closed when it is revoked)."""
    return f"sockets-key-{key_id}"


class Publisher:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}
        self._last_sent: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._queues: list[asyncio.Queue] = []

    # -- loop management ---------------------------------------------------

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._loop is None:
                self._start_on(loop)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop | None:
        with self._lock:
            if self._loop is None and not settings.EMBEDDED:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="job-publisher", daemon=True).start()
                self._start_on(loop)
            return self._loop

    def _start_on(self, loop: asyncio.AbstractEventLoop) -> None:
        def start() -> None:
            self._layer = get_channel_layer()
            self._queues = [asyncio.Queue() for _ in range(SENDERS)]
            for q in self._queues:
                loop.create_task(self._sender(q))
            if not settings.EMBEDDED:
                loop.create_task(frames.flush_forever())

        self._loop = loop
        loop.call_soon_threadsafe(start)

    # -- public, thread-safe -------------------------------------------------

    def progress(self, event: dict[str, Any]) -> None:
        if loop := self._ensure_loop():
            loop.call_soon_threadsafe(self._on_progress, event)
        else:
            frames.add_threadsafe("dropped:unbound")

    def status(self, event: dict[str, Any]) -> None:
        if loop := self._ensure_loop():
            loop.call_soon_threadsafe(self._on_status, event)
        else:
            frames.add_threadsafe("dropped:unbound")

    def close_sockets(self, group: str) -> None:
        """Close every socket in ``group`` (with 4401), in every web process."""
        if loop := self._ensure_loop():
            loop.call_soon_threadsafe(self._queue_close, group)

    def drain(self, timeout: float = 2.0) -> None:
        """Wait, at most ``timeout`` seconds, until every event handed in so far
        has been sent: a command that exits right after a change (a cancel from
        the command line) must not take its event with it."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def sent() -> None:
            for q in self._queues:
                await q.join()

        try:
            asyncio.run_coroutine_threadsafe(sent(), loop).result(timeout)
        except Exception:
            logger.warning("Job events not sent within %s s", timeout)

    # -- on the loop --------------------------------------------------------

    def _queue_close(self, group: str) -> None:
        self._loop.create_task(self._close(group))

    async def _close(self, group: str) -> None:
        try:
            await self._layer.group_send(group, {"type": "sockets.close"})
        except Exception:
            # The socket's own recheck closes it within MVIDARR_WS_RECHECK.
            logger.warning("Could not ask %s to close", group, exc_info=True)

    def _on_progress(self, event: dict[str, Any]) -> None:
        job_id = event["frame"]["job_id"]
        if job_id in self._pending:
            frames.add("dropped:superseded")
        self._pending[job_id] = event
        if job_id in self._timers:
            return
        wait = self._last_sent.get(job_id, 0.0) + MIN_INTERVAL - time.monotonic()
        if wait <= 0:
            self._flush(job_id)
        else:
            self._timers[job_id] = self._loop.call_later(wait, self._flush, job_id)

    def _flush(self, job_id: str) -> None:
        self._timers.pop(job_id, None)
        if event := self._pending.pop(job_id, None):
            self._last_sent[job_id] = time.monotonic()
            self._queue_send(event)

    def _on_status(self, event: dict[str, Any]) -> None:
        job_id = event["frame"]["job_id"]
        if timer := self._timers.pop(job_id, None):
            timer.cancel()
        self._flush(job_id)
        if event["frame"]["status"] not in ACTIVE:
            self._last_sent.pop(job_id, None)
        self._queue_send(event)

    def _queue_send(self, event: dict[str, Any]) -> None:
        self._queues[hash(event["frame"]["job_id"]) % SENDERS].put_nowait(event)

    async def _sender(self, queue: asyncio.Queue) -> None:
        ts = 0.0
        while True:
            events = [await queue.get()]
            while len(events) < BATCH and not queue.empty():
                events.append(queue.get_nowait())
            sends = []
            for event in events:
                # Each frame its own time, even within a batch: the pages'
                # sockets render a fragment once per (job, ts).
                ts = max(time.time(), ts + 1e-6)
                event["frame"]["ts"] = ts
                message = {"type": "job.event", **event}
                sends += [(user_group(event["owner_id"]), message), (ALL_GROUP, message)]
            try:
                await _send_many(self._layer, sends)
            except Exception:
                # The layer may be briefly unreachable (Redis restart): the
                # state is in the database and consumers resend a snapshot.
                frames.add("dropped:error", len(events))
                job_id = events[0]["frame"]["job_id"]
                logger.warning(
                    "Could not publish job events", exc_info=True, extra={"job_id": job_id}
                )
            else:
                for event in events:
                    frames.add(f"sent:{event['frame']['type']}")
            finally:
                for _ in events:
                    queue.task_done()


async def _send_many(layer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    """``group_send`` each (group, message) in order: in one batch on a layer
    that can (``jobs.channel_layer``), else one by one."""
    if hasattr(layer, "group_send_many"):
        await layer.group_send_many(sends)
        return
    for group, message in sends:
        await layer.group_send(group, message)


_publisher = Publisher()


def get() -> Publisher:
    return _publisher
