"""Container health checks: ``python -m mvidarr.healthcheck web|worker|scheduler``
exits 0 when healthy, else 1 with the reason on stderr.

- ``web [--url URL]``: ``GET /api/health`` answers ``{"status": "ok"}`` (the
  database and, in scaled mode, Redis answer). Standard library only, so a
  check every 30 s costs a few milliseconds, not a Django start-up. The Host
  header is the first of ``ALLOWED_HOSTS``: Django refuses any other.
- ``worker``: a worker process of this host (``WorkerBeat`` named
  ``host:pid``) has beaten within ``MVIDARR_WORKER_DEAD_AFTER`` seconds.
- ``scheduler``: the watchdog ran within the last minute. Only one scheduler
  of a deployment is active (a Redis lock): a standby is healthy while the
  active one works, and unhealthy with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

WEB_URL = "http://127.0.0.1:8000/api/health"
SCHEDULER_SILENT_AFTER = timedelta(minutes=1)


def web(url: str) -> str | None:
    allowed = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip()
    host = allowed.lstrip(".") if allowed and allowed != "*" else ""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=5) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError) as e:
        return f"{url}: {e}"
    return None if status == "ok" else f"{url} says {status!r}"


def _django() -> None:
    # Only the worker and scheduler checks need the database: the web check
    # stays a plain HTTP request.
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvidarr.settings")
    django.setup()


def worker() -> str | None:
    _django()
    # Models can be imported only once Django is set up.
    from jobs.models import WORKER_NAME, WorkerBeat

    if WorkerBeat.alive().filter(name__startswith=f"{WORKER_NAME}:").exists():
        return None
    return f"no worker process on {WORKER_NAME} has beaten lately"


def scheduler() -> str | None:
    _django()
    # Models can be imported only once Django is set up.
    from jobs.models import ScheduledTask

    cutoff = datetime.now(UTC) - SCHEDULER_SILENT_AFTER
    if ScheduledTask.objects.filter(name="watchdog", last_started_at__gte=cutoff).exists():
        return None
    return f"the watchdog has not run for {SCHEDULER_SILENT_AFTER.seconds} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mvidarr.healthcheck", description=__doc__)
    parser.add_argument("role", choices=("web", "worker", "scheduler"))
    parser.add_argument("--url", default=WEB_URL, help="the health endpoint (web)")
    args = parser.parse_args(argv)
    problem = (
        web(args.url)
        if args.role == "web"
        else {"worker": worker, "scheduler": scheduler}[args.role]()
    )
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
