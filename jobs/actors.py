"""The Dramatiq wiring: one actor per job kind, named after it, on its queue.

An actor receives only a job id and hands it to the supervisor. Retries are
the job system's own (recorded on the row), so Dramatiq's are off; the
actor's time limit is a backstop behind the supervisor's own.
"""

from __future__ import annotations

import dramatiq

from jobs import kinds
from jobs.supervisor import run_attempt

_actors: dict[str, dramatiq.Actor] = {}


def declare_all() -> dict[str, dramatiq.Actor]:
    """Declare an actor for every registered kind (idempotent); workers call
    this before they start consuming."""
    for spec in kinds.KINDS.values():
        if spec.name not in _actors:
            _actors[spec.name] = dramatiq.actor(
                run_attempt,
                actor_name=spec.name,
                queue_name=spec.queue,
                max_retries=0,
                time_limit=(spec.time_limit + 60) * 1000,
                notify_shutdown=True,
            )
    return _actors
