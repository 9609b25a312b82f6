"""Shared pieces of the benchmarks: statistics, the app under test, process
sampling from /proc, and a description of the machine."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
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

from tests.live import LiveApp
from tests.media import MediaServer

REPO = Path(__file__).resolve().parent.parent
MODES = ("embedded", "redis")
CLK_TCK = os.sysconf("SC_CLK_TCK")

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


# -- the app -----------------------------------------------------------------------


@contextlib.contextmanager
def running(
    mode: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[LiveApp, MediaServer]]:
    """A media server and a started LiveApp; both stopped on the way out, and
    the app's data dir (logs, database, downloaded files) removed unless
    BENCH_KEEP_DATA is set."""
    media = MediaServer().start()
    app = None
    try:
        app = LiveApp(mode, extra_env=extra_env)
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


def unique_media_urls(media: MediaServer, path: str, n: int) -> list[str]:
    """n distinct URLs for the same file (the key makes each one a new video)."""
    sep = "&" if "?" in path else "?"
    return [media.url(f"{path}{sep}key=bench-{uuid.uuid4().hex}") for _ in range(n)]


CREATE_VIDEOS = """
import json
from django.contrib.auth import get_user_model
from videos.models import Video
owner = get_user_model().objects.get(username=%r)
videos = Video.objects.bulk_create(
    [Video(owner=owner, url=url, title="Bench %%d" %% i, artist="Bench")
     for i, url in enumerate(%r)]
)
print(json.dumps([v.pk for v in videos]))
"""


def create_videos(app: LiveApp, urls: list[str], user: str = "alice") -> list[int]:
    """Pre-create videos straight in the database (no metadata job is queued,
    so nothing but the measured downloads runs in the background)."""
    out = app.manage("shell", "-c", CREATE_VIDEOS % (user, urls))
    ids = json.loads(out.splitlines()[-1])
    if len(ids) != len(urls) or not all(isinstance(i, int) for i in ids):
        raise RuntimeError(f"bulk_create returned no ids: {out[-500:]}")
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
    import re

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
        import psycopg

        from tests.live import POSTGRES_URL

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


# -- /proc sampling ------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime ticks, starttime) of a process, or None if gone."""
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[19])


def _status_kb(pid: int, field: str) -> int:
    raw = _read(f"/proc/{pid}/status") or ""
    for line in raw.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    raw = _read(f"/proc/{pid}/smaps_rollup") or ""
    for line in raw.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in (_read("/proc/stat") or "cpu 0").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class ProcSampler:
    """Samples CPU% and RSS of named processes (and, for ``tree`` roots, all
    their descendants, e.g. the forkserver and the yt-dlp children) every
    ``interval`` seconds. The sampling runs in a process of its own, so that
    walking /proc never holds the GIL of the benchmark client that is
    timing frames.

    CPU% is per process and relative to one core (200 % = both cores of a
    2-core machine). A descendant's CPU is counted from its first sample (from
    0 if it was born during the run); what it spends after its last sample,
    before it exits, is missed, so descendant CPU is a slight underestimate.
    RSS of descendants is summed (shared pages counted once per process); PSS,
    which splits shared pages, is reported next to it.
    """

    def __init__(self, roots: dict[str, int], tree: set[str], interval: float = 0.5) -> None:
        self.roots = roots
        self.tree = tree
        self.interval = interval
        self.samples: list[dict[str, Any]] = []
        self._last: dict[tuple[int, int], int] = {}
        self._seen_first = False

    def __enter__(self) -> ProcSampler:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_sampler_main, args=(self.roots, self.tree, self.interval, child), daemon=True
        )
        self._proc.start()
        child.close()
        self._conn.recv()  # the baseline sample is taken
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._conn.send("stop")
            if self._conn.poll(15):
                self.samples, self._sys0, self._sys1, self._t0, self._t1 = self._conn.recv()
        finally:
            self._conn.close()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()

    def _loop(self, conn) -> None:
        sys0, t0 = _system_ticks(), time.monotonic()
        self._sample()
        conn.send("ready")
        while not conn.poll(self.interval):
            self._sample()
        conn.recv()
        self._sample()
        conn.send((self.samples, sys0, _system_ticks(), t0, time.monotonic()))

    def _sample(self) -> None:
        now = time.monotonic()
        procs: dict[int, tuple[int, int, int]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit() and (st := _stat(int(name))) is not None:
                procs[int(name)] = st
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        sample: dict[str, Any] = {"t": now}
        first = not self._seen_first
        for role, root in self.roots.items():
            groups = {"main": [root] if root in procs else []}
            if role in self.tree:
                desc, todo = [], list(children.get(root, []))
                while todo:
                    pid = todo.pop()
                    desc.append(pid)
                    todo.extend(children.get(pid, []))
                groups["children"] = desc
            for group, pids in groups.items():
                ticks = rss = pss = 0
                for pid in pids:
                    _, total, start = procs[pid]
                    key = (pid, start)
                    prev = self._last.get(key, total if first else 0)
                    ticks += total - prev
                    self._last[key] = total
                    rss += _status_kb(pid, "VmRSS")
                    if group == "children":
                        pss += _pss_kb(pid)
                sample[f"{role}.{group}"] = {
                    "ticks": ticks,
                    "rss_kb": rss,
                    "pss_kb": pss,
                    "count": len(pids),
                }
        self._seen_first = True
        self.samples.append(sample)

    def report(self) -> dict[str, Any]:
        """Per process group: CPU % (mean over the run, max per interval),
        RSS MB (mean, max); descendants also PSS MB and peak count."""
        out: dict[str, Any] = {}
        if len(self.samples) < 2:
            return out
        elapsed = self.samples[-1]["t"] - self.samples[0]["t"]
        keys = [k for k in self.samples[0] if k != "t"]
        for key in keys:
            series = [s[key] for s in self.samples[1:]]
            dts = [b["t"] - a["t"] for a, b in zip(self.samples, self.samples[1:], strict=False)]
            cpu = [100.0 * s["ticks"] / CLK_TCK / dt for s, dt in zip(series, dts, strict=False)]
            rss = [s["rss_kb"] / 1024 for s in series]
            entry = {
                "cpu_mean": round(100.0 * sum(s["ticks"] for s in series) / CLK_TCK / elapsed, 1),
                "cpu_max": round(max(cpu), 1),
                "rss_mean_mb": round(sum(rss) / len(rss), 1),
                "rss_max_mb": round(max(rss), 1),
            }
            if key.endswith(".children"):
                entry["pss_max_mb"] = round(max(s["pss_kb"] for s in series) / 1024, 1)
                entry["count_max"] = max(s["count"] for s in series)
            out[key] = entry
        busy = self._sys1[0] - self._sys0[0]
        total = self._sys1[1] - self._sys0[1]
        out["system"] = {
            "cpu_busy_pct_of_all_cores": round(100.0 * busy / total, 1) if total else None,
            "cores": os.cpu_count(),
            "seconds": round(self._t1 - self._t0, 1),
        }
        return out


def _sampler_main(roots: dict[str, int], tree: set[str], interval: float, conn) -> None:
    ProcSampler(roots, tree, interval)._loop(conn)


# -- the machine ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo") or ""
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
            for line in (_read("/proc/meminfo") or "").splitlines()
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
        "loadavg": (_read("/proc/loadavg") or "").split()[:3],
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
