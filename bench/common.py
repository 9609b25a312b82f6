"""Shared pieces of the benchmarks: statistics, the app under test, process
sampling from /proc, and a description of the machine."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.sampling import ProcSampler, read  # noqa: F401  (ProcSampler re-exported)
from tests.live import POSTGRES_URL, LiveApp
from tests.media import MediaServer

REPO = Path(__file__).resolve().parent.parent
MODES = ("embedded", "redis")

# -- statistics ------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values_ms: list[float]) -> dict[str, float]:
    """n, p50/p95/p99, max and mean of values already in milliseconds."""
    v = sorted(values_ms)
    if not v:
        return {"n": 0}
    return {
        "n": len(v),
        "min": round(v[0], 2),
        "p50": round(percentile(v, 50), 2),
        "p95": round(percentile(v, 95), 2),
        "p99": round(percentile(v, 99), 2),
        "max": round(v[-1], 2),
        "mean": round(sum(v) / len(v), 2),
    }


def fmt(stats: dict[str, float], keys=("p50", "p95", "p99", "max")) -> str:
    if not stats.get("n"):
        return "no samples"
    return " ".join(f"{k}={stats[k]:.1f}" for k in keys) + f" ms (n={stats['n']})"


def cell(stats: dict[str, float] | None, keys=("p50", "p95", "p99", "max")) -> str:
    """The figures for a markdown table: ``1.0 / 2.5`` (ms), or "–" without samples."""
    if not stats or not stats.get("n"):
        return "–"
    return " / ".join(f"{stats[k]:.1f}" for k in keys)


def log_lines(errors: dict[str, int]) -> list[str]:
    """A report's lines for ``log_errors``."""
    return [f"  log: {n} x {line}" for line, n in errors.items()]


def machine_busy(processes: dict[str, Any]) -> float | None:
    """How busy all cores were over a ``ProcSampler`` run, in %."""
    return processes.get("system", {}).get("cpu_busy_pct_of_all_cores")


# -- the app -----------------------------------------------------------------------


@contextlib.contextmanager
def running(
    mode: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[LiveApp, MediaServer]]:
    """A media server and a started LiveApp; both stopped on the way out, and
    the app's data dir (logs, database, downloaded files) removed unless
    BENCH_KEEP_DATA is set. BENCH_SERVE_ARGS adds options to ``serve``."""
    media = MediaServer().start()
    app = None
    # e.g. BENCH_SERVE_ARGS="--processes 2": serve's own options (scaled mode).
    serve_args = tuple(os.environ.get("BENCH_SERVE_ARGS", "").split())
    try:
        app = LiveApp(mode, extra_env=extra_env, serve_args=serve_args)
        app.start()
        yield app, media
    finally:
        if app is not None:
            try:
                app.stop()
            except Exception as e:  # keep going: the media server must stop too
                print(f"warning: LiveApp.stop() failed: {e}", file=sys.stderr)
            if os.environ.get("BENCH_KEEP_DATA"):
                print(f"kept {app.data_dir}", file=sys.stderr)
            else:
                shutil.rmtree(app.data_dir, ignore_errors=True)
        media.stop()


def runner_of(mode: str) -> str:
    """The process that runs the jobs: ``serve`` embedded, the worker in Redis mode."""
    return "serve" if mode == "embedded" else "worker"


def process_roots(app: LiveApp, media: MediaServer | None = None) -> dict[str, int]:
    """What a ``ProcSampler`` watches: the app's processes, the media server
    (a load generator: its cost is context) and this benchmark client."""
    roots = {name: proc.pid for name, proc in app.procs.items()}
    if media is not None:
        roots["media_server"] = media._proc.pid  # noqa: SLF001
    roots["bench_client"] = os.getpid()
    return roots


def unique_media_urls(media: MediaServer, path: str, n: int) -> list[str]:
    """n distinct URLs for the same file (the key makes each one a new video)."""
    sep = "&" if "?" in path else "?"
    return [media.url(f"{path}{sep}key=bench-{uuid.uuid4().hex}") for _ in range(n)]


CREATE_VIDEOS = """
import json
from django.contrib.auth import get_user_model
from videos.models import Artist, Video
owner = get_user_model().objects.get(username=%r)
artist = Artist.objects.named(owner.pk, "Bench")
videos = Video.objects.bulk_create(
    [Video(owner=owner, url=url, title="Bench %%d" %% i, artist=artist)
     for i, url in enumerate(%r)]
)
print(json.dumps([v.pk for v in videos]))
"""


def create_videos(app: LiveApp, urls: list[str], user: str = "alice") -> list[int]:
    """Pre-create videos straight in the database (no metadata job is queued,
    so nothing but the measured downloads runs in the background), 300 per
    command: more would pass the limit of one command line."""
    ids = []
    for start in range(0, len(urls), 300):
        batch = urls[start : start + 300]
        out = app.manage("shell", "-c", CREATE_VIDEOS % (user, batch))
        created = json.loads(out.splitlines()[-1])
        if len(created) != len(batch) or not all(isinstance(i, int) for i in created):
            raise RuntimeError(f"bulk_create returned no ids: {out[-500:]}")
        ids += created
    return ids


def active_jobs(client: httpx.Client) -> list[dict]:
    jobs = []
    for status in ("running", "queued"):
        r = client.get("/api/jobs", params={"status": status, "limit": 500})
        r.raise_for_status()
        jobs += r.json()
    return jobs


def cancel_all(app: LiveApp, user: str = "alice", timeout: float = 90.0) -> int:
    """Cancel every queued or running job through the API; returns how many."""
    cancelled = 0
    deadline = time.monotonic() + timeout
    clients = [app.client(user) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            while time.monotonic() < deadline:
                jobs = active_jobs(clients[0])
                if not jobs:
                    return cancelled

                def cancel(i_job: tuple[int, dict]) -> int:
                    i, job = i_job
                    r = clients[i % len(clients)].post(f"/api/jobs/{job['id']}/cancel")
                    return int(r.status_code == 202)

                cancelled += sum(pool.map(cancel, enumerate(jobs)))
        print(f"warning: jobs still active after {timeout:g} s of cancelling", file=sys.stderr)
        return cancelled
    finally:
        for c in clients:
            c.close()


def wait_idle(client: httpx.Client, timeout: float = 30.0) -> bool:
    """Until no job is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not active_jobs(client):
            return True
        time.sleep(0.1)
    return False


def log_errors(app: LiveApp) -> dict[str, int]:
    """How often each exception (the last line of a traceback) or ERROR line
    appears in the app's process logs; a benchmark shows them with its figures."""

    counts: dict[str, int] = {}
    for name in ("serve", "worker", "scheduler"):
        path = app.data_dir / f"{name}.log"
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*:", line):
                key = f"{name}: {line[:160]}"
            elif " ERROR " in line:
                key = f"{name}: {line.split(' ERROR ', 1)[1][:60]}..."
            else:
                continue
            key = re.sub(r"/\d+/", "/N/", key)
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:8])


class PgConnections:
    """Samples, every 0.2 s, how many PostgreSQL connections the app's database
    has, and how many the whole server has against its max_connections (the
    server is shared with anything else running on the machine)."""

    def __init__(self, app: LiveApp, interval: float = 0.2) -> None:
        self.db = getattr(app, "_pg_db", None)
        self.interval = interval
        self.samples: list[tuple[int, int]] = []
        self.max_connections = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)

    def __enter__(self) -> PgConnections:
        if self.db:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.db:
            self._thread.join(5)

    def _run(self) -> None:
        try:
            with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
                self.max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
                while not self._stop.is_set():
                    ours, total = conn.execute(
                        "SELECT count(*) FILTER (WHERE datname = %s), count(*)"
                        " FROM pg_stat_activity WHERE backend_type = 'client backend'",
                        (self.db,),
                    ).fetchone()
                    self.samples.append((ours, total))
                    self._stop.wait(self.interval)
        except Exception as e:  # noqa: BLE001 - a probe, not the measurement
            print(f"warning: PostgreSQL sampling stopped: {e}", file=sys.stderr)

    def report(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        return {
            "app_db_max": max(o for o, _ in self.samples),
            "app_db_mean": round(sum(o for o, _ in self.samples) / len(self.samples), 1),
            "server_max": max(t for _, t in self.samples),
            "max_connections": self.max_connections,
        }


def parse_ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# -- the machine ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpuinfo = read("/proc/cpuinfo") or ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in (read("/proc/meminfo") or "").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": (read("/proc/loadavg") or "").split()[:3],
    }


# -- command line -----------------------------------------------------------------------


def parse_args(description: str, argv: list[str] | None = None, **extra) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    for flag, kwargs in extra.items():
        parser.add_argument(flag, **kwargs)
    return parser.parse_args(argv)


def modes_of(arg: str) -> tuple[str, ...]:
    return MODES if arg == "both" else (arg,)


def write_json(path: str | None, data: Any) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str))


def keep_run(results: list[dict[str, Any]], result: dict[str, Any], report) -> None:
    """A run is over: note the load then, print its ``report`` and keep it."""
    result["loadavg_after"] = machine()["loadavg"]
    print(report(result), flush=True)
    results.append(result)


def end_runs(path: str | None, results: list[dict[str, Any]], table) -> list[dict[str, Any]]:
    """Every run is over: their markdown ``table``, and to ``--json`` with the machine."""
    print()
    print(table(results))
    write_json(path, {"machine": machine(), "results": results})
    return results


def run_modes(args: argparse.Namespace, run, report) -> list[dict[str, Any]]:
    """``run(mode)`` in each mode of ``--mode``, printing each ``report``; the
    results also go to ``--json``."""
    results = []
    for mode in modes_of(args.mode):
        result = run(mode)
        print(report(result), flush=True)
        results.append(result)
    write_json(args.json, results)
    return results
