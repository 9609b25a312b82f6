"""Dramatiq's Redis broker, with idle consumers woken at once by new messages.

Dramatiq's Redis consumers poll: an idle one sleeps 50–100 ms
(``worker_timeout``, with jitter) between fetches, so a job sent to an idle
worker waited that long before it started. Here:

1. ``wake(queues)`` PUBLISHes each queue's name on one channel once a batch of
   messages is enqueued (``jobs.broker.send``).
2. A worker process listens on that channel (one thread and one connection,
   started by its first fetch) and sets the queue's event.
3. A consumer whose fetch found nothing waits on its queue's event, up to
   ``idle_wait`` seconds, and fetches again when it is set, so a new job starts
   within a round trip. Dramatiq's own backoff sleep follows a wait that
   found nothing, so idle workers also poll Redis less often than before.

A wake-up that is lost (Redis restarting, the listener reconnecting) only
delays the job to the next poll, at most ``idle_wait`` plus the backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import redis
from dramatiq.brokers.redis import RedisBroker

logger = logging.getLogger(__name__)

# Seconds an idle consumer waits for a wake-up before it polls again.
IDLE_WAIT = 0.5


class WakingRedisBroker(RedisBroker):
    def __init__(self, *args, idle_wait: float = IDLE_WAIT, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.idle_wait = idle_wait
        self.wake_channel = f"{self.namespace}:wake"
        self._events: dict[str, threading.Event] = {}
        self._listening = threading.Lock()
        self._listener: threading.Thread | None = None
        self._fetch = self._dispatch("fetch")

    def wake(self, queues: Iterable[str]) -> None:
        """Tell the workers' idle consumers of these queues that a message waits."""
        with self.client.pipeline(transaction=False) as pipe:
            for queue in set(queues):
                pipe.publish(self.wake_channel, queue)
            pipe.execute()

    def do_fetch(self, queue_name: str, count: int) -> list:
        event = self._event(queue_name)
        event.clear()
        messages = self._fetch(queue_name, count)
        if not messages and event.wait(self.idle_wait):
            messages = self._fetch(queue_name, count)
        return messages

    def _event(self, queue_name: str) -> threading.Event:
        if (event := self._events.get(queue_name)) is None:
            with self._listening:
                event = self._events.setdefault(queue_name, threading.Event())
                if self._listener is None:
                    self._listener = threading.Thread(
                        target=self._listen, name="broker-wake", daemon=True
                    )
                    self._listener.start()
        return event

    def _listen(self) -> None:
        while True:
            try:
                with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(self.wake_channel)
                    for message in pubsub.listen():
                        if event := self._events.get(message["data"].decode()):
                            event.set()
            except redis.RedisError:
                logger.debug("Wake-up channel lost; listening again in 1 s", exc_info=True)
                time.sleep(1)
