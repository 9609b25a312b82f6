"""CPU and memory of processes, read from /proc while a benchmark runs."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime ticks, starttime) of a process, or None if gone."""
    raw = read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[19])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    stat = _stat(pid)
    return stat[1] / CLK_TCK if stat else 0.0


def _status_kb(pid: int, field: str) -> int:
    raw = read(f"/proc/{pid}/status") or ""
    for line in raw.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    raw = read(f"/proc/{pid}/smaps_rollup") or ""
    for line in raw.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in (read("/proc/stat") or "cpu 0").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def server_pids() -> dict[str, int]:
    """The postmaster and redis-server (their CPU is context: they are shared)."""
    found: dict[str, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or (raw := read(f"/proc/{name}/stat")) is None:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        ppid = int(raw[raw.rfind(")") + 2 :].split()[1])
        if comm == "postgres" and ppid == 1:
            found["postgres"] = int(name)
        elif comm.startswith("redis-server"):
            found["redis"] = int(name)
    return found


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
