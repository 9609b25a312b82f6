"""Dramatiq's Redis broker, with idle consumers woken at once by new messages.

Dramatiq's Redis consumers poll: an idle one sleeps 50–100 ms
(``worker_timeout``, with jitter) between fetches, so a job sent to an idle
worker waited that long before it started. Here:

1. ``wake(queues)`` PUBLISHes each queue's name on one channel once a batch of
   messages is enqueued; ``enqueue_and_wake(messages)`` (``jobs.broker.send``)
   pipelines the messages and the wake-ups, one round trip to Redis for all.
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
from uuid import uuid4

import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from redis.exceptions import NoScriptError

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

    def enqueue_and_wake(self, messages: list[Message]) -> None:
        """``enqueue`` each message (no delay), then ``wake`` their queues, in
        one pipeline: one round trip to Redis where they take one each.

        1. Each message gets its Redis id and passes the middleware as in
           ``enqueue``.
        2. The pipeline runs Dramatiq's dispatch script by its hash with the
           arguments its own ``enqueue`` passes (``_dispatch``), then the
           PUBLISHes: Redis runs them in order, so a woken consumer finds the
           message.
        3. A Redis that does not know the script yet (it restarted) answers
           NOSCRIPT to each: those messages are enqueued again the usual way,
           which loads it, and woken again.
        """
        sent = [m.copy(options={"redis_message_id": str(uuid4())}) for m in messages]
        for message in sent:
            self.emit_before("enqueue", message, None)
        sha = self.scripts["dispatch"].sha
        with self.client.pipeline(transaction=False) as pipe:
            for message in sent:
                pipe.evalsha(sha, 1, self.namespace, *self._enqueue_args(message))
            for queue in {message.queue_name for message in sent}:
                pipe.publish(self.wake_channel, queue)
            replies = pipe.execute(raise_on_error=False)[: len(sent)]
        for reply in replies:
            if isinstance(reply, Exception) and not isinstance(reply, NoScriptError):
                raise reply
        if unknown := [m for m, r in zip(sent, replies, strict=True) if isinstance(r, Exception)]:
            for message in unknown:
                self.do_enqueue(
                    message.queue_name, message.options["redis_message_id"], message.encode()
                )
            self.wake(message.queue_name for message in unknown)
        for message in sent:
            self.emit_after("enqueue", message, None)

    def _enqueue_args(self, message: Message) -> list:
        """The dispatch script's arguments for ``enqueue``, in the order
        Dramatiq's ``_dispatch`` passes them."""
        return [
            "enqueue",
            current_millis(),
            message.queue_name,
            self.broker_id,
            self.heartbeat_timeout,
            self.dead_message_ttl,
            self._should_do_maintenance("enqueue"),
            self._max_unpack_size(),
            message.options["redis_message_id"],
            message.encode(),
        ]

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
