"""The batching Redis channel layer (``jobs.channel_layer``) against the real
Redis: a batch of group sends reaches the same channels, in the same order,
as ``channels_redis``'s own ``group_send`` one by one, across processes (two
layers with their own client prefix), and a full channel drops what does not
fit, as there. The publisher sends a burst of events through it in batches,
each job's in order and each frame with its own time."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import defaultdict

import pytest
import redis

from jobs import publisher
from jobs.channel_layer import BatchingRedisChannelLayer
from tests.live import REDIS_URL

URL = f"{REDIS_URL}/15"


@pytest.fixture
def prefix():
    prefix = f"layer-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def layer(prefix: str, capacity: int = 1000) -> BatchingRedisChannelLayer:
    return BatchingRedisChannelLayer(hosts=[URL], prefix=prefix, capacity=capacity)


async def drain(layer, channel: str) -> list[int]:
    """The numbers of the messages waiting for ``channel``, in the order received."""
    got = []
    while True:
        try:
            message = await asyncio.wait_for(layer.receive(channel), 0.5)
        except TimeoutError:
            return got
        got.append(message["n"])


def test_a_batch_reaches_every_member_of_its_groups_in_order_across_processes(prefix):
    async def scenario():
        web, other, sender = layer(prefix), layer(prefix), layer(prefix)
        alice, staff, both = [await web.new_channel() for _ in range(3)]
        elsewhere = await other.new_channel()
        for group, channel in [
            ("user-1", alice),
            ("all", staff),
            ("all", elsewhere),
            ("user-1", both),
            ("all", both),
        ]:
            await (other if channel == elsewhere else web).group_add(group, channel)
        sends = []
        for n in range(60):
            message = {"type": "job.event", "n": n}
            sends += [("user-1", message), ("all", message), ("user-2", message)]
        await sender.group_send_many(sends)
        got = {
            "alice": await drain(web, alice),
            "staff": await drain(web, staff),
            "both": await drain(web, both),
            "elsewhere": await drain(other, elsewhere),
        }
        for each in (web, other, sender):
            await each.close_pools()
        return got

    got = asyncio.run(scenario())
    numbers = list(range(60))
    assert got["alice"] == got["staff"] == got["elsewhere"] == numbers
    # A channel in both groups hears each message twice, as with group_send.
    assert got["both"] == [n for n in numbers for _ in range(2)]


def test_a_full_channel_drops_what_does_not_fit_and_an_empty_group_costs_no_message(prefix):
    async def scenario():
        web, sender = layer(prefix, capacity=5), layer(prefix, capacity=5)
        channel = await web.new_channel()
        await web.group_add("all", channel)
        await sender.group_send_many([("all", {"type": "x", "n": n}) for n in range(8)])
        await sender.group_send_many([("nobody", {"type": "x", "n": 99})])
        got = await drain(web, channel)
        for each in (web, sender):
            await each.close_pools()
        return got

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4]
    client = redis.Redis.from_url(URL)
    assert not [k for k in client.scan_iter(match=f"{prefix}*") if b"group:nobody" in k]


def test_bad_group_names_are_refused_before_anything_is_sent(prefix):
    async def scenario():
        sender = layer(prefix)
        try:
            await sender.group_send_many([("ok", {"type": "x"}), ("not ok!", {"type": "x"})])
        finally:
            await sender.close_pools()

    with pytest.raises((AssertionError, TypeError)):
        asyncio.run(scenario())


def test_the_publisher_sends_a_burst_in_batches_in_order_each_frame_with_its_own_time(
    prefix, monkeypatch
):
    redis_layer = layer(prefix)
    batches = []
    send_many = redis_layer.group_send_many

    async def counted(sends):
        batches.append(len(sends))
        await send_many(sends)

    monkeypatch.setattr(redis_layer, "group_send_many", counted)
    monkeypatch.setattr(publisher, "get_channel_layer", lambda: redis_layer)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def on_loop(coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    channel = on_loop(redis_layer.new_channel())
    on_loop(redis_layer.group_add(publisher.ALL_GROUP, channel))
    sender = publisher.Publisher()
    sender.bind_loop(loop)
    jobs = [str(uuid.uuid4()) for _ in range(10)]
    for n in range(30):
        for job in jobs:
            frame = {"type": "status", "job_id": job, "status": "running", "n": n}
            sender.status({"owner_id": 1, "subject": "", "frame": frame})
    sender.drain(10)

    async def receive_all():
        return [(await redis_layer.receive(channel))["frame"] for _ in range(300)]

    frames = on_loop(receive_all(), timeout=30)
    by_job = defaultdict(list)
    for frame in frames:
        by_job[frame["job_id"]].append(frame)
    assert sorted(by_job) == sorted(jobs)
    for sent in by_job.values():
        assert [f["n"] for f in sent] == list(range(30))
        assert all(a["ts"] < b["ts"] for a, b in zip(sent, sent[1:], strict=False))
    assert len({f["ts"] for f in frames}) == 300
    assert sum(batches) == 2 * 300 and len(batches) < 300  # two groups per event, batched
    on_loop(stop_everything_but(redis_layer))
    loop.call_soon_threadsafe(loop.stop)


async def stop_everything_but(layer) -> None:
    """Cancel the loop's other tasks (the publisher's senders), then close the layer."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await layer.close_pools()
