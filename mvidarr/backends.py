"""The shape of the channel layer, the Dramatiq broker and logging, from the
values ``settings.py`` read from the environment (it alone reads it).

Embedded mode (no ``REDIS_URL``): an in-memory channel layer and Dramatiq's
StubBroker, both inside the web process. Scaled mode: both on Redis.
"""

from __future__ import annotations

from typing import Any

# A socket's queue must hold a burst of many jobs' events: a full one drops them.
CHANNEL_CAPACITY = 1000


def channel_layers(redis_url: str) -> dict[str, Any]:
    """``CHANNEL_LAYERS``: in memory, or on Redis with retries."""
    if not redis_url:
        return {
            "default": {
                "BACKEND": "channels.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": CHANNEL_CAPACITY},
            }
        }
    # Only scaled mode talks to Redis: embedded mode never loads its client.
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # Retrying on a dropped connection lets open sockets ride out a Redis
    # restart instead of closing with an error.
    host = {
        "address": redis_url,
        "retry": Retry(ExponentialBackoff(cap=2, base=0.05), 8),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
    }
    return {
        "default": {
            "BACKEND": "jobs.channel_layer.BatchingRedisChannelLayer",
            "CONFIG": {"hosts": [host], "capacity": CHANNEL_CAPACITY, "expiry": 30},
        }
    }


def dramatiq_broker(redis_url: str) -> dict[str, Any]:
    """``DRAMATIQ_BROKER``: the StubBroker (worker threads in the web
    process), or Redis."""
    if redis_url:
        broker = {"BROKER": "jobs.redisbroker.WakingRedisBroker", "OPTIONS": {"url": redis_url}}
    else:
        broker = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}}
    return {
        **broker,
        "MIDDLEWARE": [
            "dramatiq.middleware.TimeLimit",
            "dramatiq.middleware.ShutdownNotifications",
            "dramatiq.middleware.Retries",
            "jobs.dbconnections.DbConnections",
        ],
    }


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING``: every record to stderr as ``log_format`` says (plain: one
    readable line; json: one JSON object per line: ts, level, logger, message,
    and job_id on every line about a job)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"job_id": {"()": "jobs.logcontext.JobIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "{levelname}{name}{message}",
                "style": "{",
                "timestamp": "ts",
                "rename_fields": {"levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["job_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.channels.server": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
            # Its start-up line would open every command's output.
            "axes": {"level": "WARNING"},
            # Apprise's debug lines carry notification URLs, and so their secrets.
            "apprise": {"level": "WARNING"},
        },
    }
