"""Handing job ids to Dramatiq, and asking Redis which ones it still holds.

A message carries only a job id; which actor and queue it goes to comes from
the job's kind (``jobs.kinds``). The database decides what runs: a message is
a turn to claim a job, so sending one twice is always harmless.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import dramatiq
from dramatiq import Message

from jobs import kinds
from jobs.redisbroker import WakingRedisBroker


def message(kind: str, job_id) -> Message:
    spec = kinds.get(kind)
    return Message(
        queue_name=spec.queue, actor_name=spec.name, args=(str(job_id),), kwargs={}, options={}
    )


def send(jobs: Iterable[tuple[str, object]], delay: float | None = None) -> None:
    """Send a message for each ``(kind, job_id)``; ``delay`` in seconds. On
    Redis, undelayed messages go with a wake-up for idle workers, which then
    fetch at once rather than at their next poll: one round trip for all."""
    broker = dramatiq.get_broker()
    declared = broker.get_declared_queues()
    messages = [message(kind, job_id) for kind, job_id in jobs]
    for queue in {sent.queue_name for sent in messages} - declared:
        broker.declare_queue(queue)  # no actor in this process declared it yet
    if not delay and isinstance(broker, WakingRedisBroker):
        if messages:
            broker.enqueue_and_wake(messages)
        return
    for sent in messages:
        broker.enqueue(sent, delay=int(delay * 1000) if delay else None)


def held_job_ids(queues: Iterable[str]) -> set[str] | None:
    """The job ids of every message Redis holds for these queues (waiting,
    delayed or being worked on), or None when the broker is not Redis."""
    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)
    if client is None:
        return None
    ids: set[str] = set()
    for queue in queues:
        for name in (queue, f"{queue}.DQ"):
            for raw in client.hvals(f"{broker.namespace}:{name}.msgs"):
                try:
                    ids.add(json.loads(raw)["args"][0])
                except (ValueError, KeyError, IndexError, TypeError):
                    continue
    return ids


def queue_lengths(queues: Iterable[str]) -> dict[str, int] | None:
    """Messages no worker has fetched yet, per queue: the length of the Redis
    list ``<namespace>:<queue>`` (what a queue-length autoscaler reads), or
    None when the broker is not Redis. A worker fetches only as many messages as
    it has free threads, so the list holds what waits for one."""
    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)
    if client is None:
        return None
    queues = list(queues)
    with client.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.llen(f"{broker.namespace}:{queue}")
        return dict(zip(queues, pipe.execute(), strict=True))
