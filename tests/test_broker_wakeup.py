"""The Redis broker wakes an idle worker's consumer when a message is sent
(jobs.redisbroker), against the real Redis the Redis-mode tests use."""

from __future__ import annotations

import threading
import time
import uuid
from queue import Empty, Queue

import pytest
import redis
from dramatiq import Message

from jobs.redisbroker import WakingRedisBroker
from tests.live import REDIS_URL

QUEUE = "wakeup"


@pytest.fixture
def broker():
    # Its own database and namespace: nothing else reads these queues.
    url = f"{REDIS_URL}/15"
    broker = WakingRedisBroker(url=url, namespace=f"wakeup-{uuid.uuid4().hex[:8]}", idle_wait=60)
    broker.declare_queue(QUEUE)
    yield broker
    redis.Redis.from_url(url).flushdb()


def consume(broker, got: Queue, stop: threading.Event) -> None:
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    while not stop.is_set():
        if (message := next(consumer)) is not None:
            got.put((time.monotonic(), message.args))
            consumer.ack(message)


def message(n: int) -> Message:
    return Message(queue_name=QUEUE, actor_name="noop", args=(n,), kwargs={}, options={})


def test_an_idle_consumer_fetches_a_message_as_soon_as_it_is_sent_and_woken(broker):
    got, stop = Queue(), threading.Event()
    thread = threading.Thread(target=consume, args=(broker, got, stop), daemon=True)
    thread.start()
    try:
        for n in range(3):
            time.sleep(0.5)  # idle: waiting for a wake-up, 60 s before its next poll
            broker.enqueue(message(n))
            broker.wake([QUEUE])
            _, args = got.get(timeout=10)
            assert list(args) == [n]
    finally:
        stop.set()
        broker.enqueue(message(-1))
        broker.wake([QUEUE])
        thread.join(5)
    assert not thread.is_alive()


def test_a_message_sent_without_a_wake_up_waits_for_the_next_poll(broker):
    got, stop = Queue(), threading.Event()
    thread = threading.Thread(target=consume, args=(broker, got, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        broker.enqueue(message(7))  # no wake-up: only the poll, 60 s away, finds it
        with pytest.raises(Empty):
            got.get(timeout=2)
        broker.wake([QUEUE])  # the wake-up of some later message
        _, args = got.get(timeout=10)
        assert list(args) == [7]
    finally:
        stop.set()
        broker.enqueue(message(-1))
        broker.wake([QUEUE])
        thread.join(5)


def test_messages_sent_with_their_wake_up_take_one_round_trip_and_wake_the_consumer(
    broker, monkeypatch
):
    got, stop = Queue(), threading.Event()
    thread = threading.Thread(target=consume, args=(broker, got, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # idle: only a wake-up gets it to fetch within 60 s
        sent, here = [], threading.get_ident()
        connection_class = broker.client.connection_pool.connection_class
        send = connection_class.send_packed_command

        def counted(connection, command, *args, **kwargs):
            if threading.get_ident() == here:  # not the consumer's own connections
                sent.append(command)
            return send(connection, command, *args, **kwargs)

        monkeypatch.setattr(connection_class, "send_packed_command", counted)
        broker.enqueue_and_wake([message(n) for n in range(3)])
        monkeypatch.undo()
        assert len(sent) == 1  # the three messages and the wake-up, pipelined
        assert sorted(got.get(timeout=10)[1][0] for _ in range(3)) == [0, 1, 2]
    finally:
        monkeypatch.undo()
        stop.set()
        broker.enqueue_and_wake([message(-1)])
        thread.join(5)
    assert not thread.is_alive()


def test_messages_reach_a_redis_that_forgot_the_dispatch_script(broker):
    """After a restart Redis knows no script: each pipelined message is
    refused (NOSCRIPT) and sent again the usual way, which loads it."""
    got, stop = Queue(), threading.Event()
    thread = threading.Thread(target=consume, args=(broker, got, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        broker.client.script_flush()
        broker.enqueue_and_wake([message(1), message(2)])
        assert broker.client.script_exists(broker.scripts["dispatch"].sha) == [True]
        assert sorted(got.get(timeout=10)[1][0] for _ in range(2)) == [1, 2]
        with pytest.raises(Empty):
            got.get(timeout=1)  # each once
    finally:
        stop.set()
        broker.enqueue_and_wake([message(-1)])
        thread.join(5)
