"""Several group sends in two round trips: the Redis channel layer of scaled
mode, with ``group_send_many`` (``jobs.publisher`` uses it when the layer has
it; embedded mode's in-memory layer sends one by one).

``channels_redis``'s ``group_send`` costs 2 round trips to Redis for a group
without members and 4 for one with members, and every job event goes to two
groups, so a worker spent more CPU publishing a no-op job's three events than
running it. ``group_send_many`` sends a batch of (group, message) pairs:

1. One pipeline per Redis host drops the groups' expired members and reads
   the members of every group in the batch.
2. Each message is addressed to the channels of its groups, grouped by the
   Redis key that holds a process's channels (one message per key and group
   send, naming its channels, as ``group_send`` does).
3. One Lua script per host drops each key's expired messages and adds the
   batch's messages to keys under their capacity (a full key drops the
   message, as ``group_send`` does). Messages are scored with the send time
   plus their place in the batch, so a receiver pops them in the batch's
   order (``group_send`` gives one time to all of a send's messages).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.commands.core import AsyncScript

ADD_MESSAGES = """
local n = #KEYS
local now, expiry = tonumber(ARGV[3 * n + 1]), tonumber(ARGV[3 * n + 2])
local over = 0
for i = 1, n do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, now - expiry)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
        redis.call('ZADD', KEYS[i], ARGV[2 * n + i], ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over = over + 1
    end
end
return over
"""
# Sent to a Redis server once, then run by its hash (EVALSHA).
ADD_SCRIPT = AsyncScript(None, ADD_MESSAGES.encode())
# Apart in score within one batch: far below the clock's steps between batches.
STEP = 1e-6

Send = tuple[str, dict[str, Any]]


class BatchingRedisChannelLayer(RedisChannelLayer):
    async def group_send_many(self, sends: list[Send]) -> None:
        for group, _ in sends:
            assert self.require_valid_group_name(group), "Group name not valid"
        members = await self._members({group for group, _ in sends})
        now = time.time()
        # Per host: (channel key, its capacity, a message naming its channels), in send order.
        batches: dict[int, list[tuple[str, int, dict]]] = defaultdict(list)
        for group, message in sends:
            by_key: dict[str, dict] = {}
            for channel in members[group]:
                local = self.non_local_name(channel) if "!" in channel else channel
                key = self.prefix + local
                if key not in by_key:
                    by_key[key] = {**message, "__asgi_channel__": []}
                    entry = (key, self.get_capacity(channel), by_key[key])
                    batches[self.consistent_hash(local)].append(entry)
                by_key[key]["__asgi_channel__"].append(channel)
        for index, entries in batches.items():
            keys, capacities, messages = zip(*entries, strict=True)
            scores = [now + i * STEP for i in range(len(entries))]
            serialized = [self.serialize(message) for message in messages]
            await ADD_SCRIPT(
                keys=keys,
                args=[*serialized, *capacities, *scores, now, int(self.expiry)],
                client=self.connection(index),
            )

    async def _members(self, groups: set[str]) -> dict[str, list[str]]:
        """Each group's channels, after dropping those past ``group_expiry``."""
        by_host: dict[int, list[str]] = defaultdict(list)
        for group in groups:
            by_host[self.consistent_hash(group)].append(group)
        members: dict[str, list[str]] = {}
        cutoff = int(time.time()) - self.group_expiry
        for index, names in by_host.items():
            async with self.connection(index).pipeline(transaction=False) as pipe:
                for group in names:
                    key = self._group_key(group)
                    pipe.zremrangebyscore(key, min=0, max=cutoff)
                    pipe.zrange(key, 0, -1)
                replies = await pipe.execute()
            for group, channels in zip(names, replies[1::2], strict=True):
                members[group] = [channel.decode() for channel in channels]
        return members
