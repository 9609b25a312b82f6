"""Figures and tables of ``bench.throughput`` runs."""

from __future__ import annotations

from typing import Any

from bench.common import log_lines, machine_busy, summarize


def summarize_rows(rows: list[tuple], result: dict[str, Any]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for status, *_ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    done = [(c, s, f) for status, c, s, f in rows if status == "succeeded" and s and f]
    created = sorted(c for _, c, _, _ in rows)
    first_start = min((s for _, s, _ in done), default=None)
    finished = sorted(f for _, _, f in done)
    n = len(done)
    span = (finished[-1] - created[0]) if done else None
    # The rate once it has settled: finishes between the 10th and 90th percentile.
    lo, hi = int(n * 0.1), int(n * 0.9) - 1
    steady = (
        (hi - lo) / (finished[hi] - finished[lo])
        if n >= 20 and finished[hi] > finished[lo]
        else None
    )
    result.update(
        {
            "statuses": statuses,
            "done": n,
            "span_s": round(span, 2) if span else None,
            "jobs_per_s": round(n / span, 1) if span else None,
            "steady_jobs_per_s": round(steady, 1) if steady else None,
            # From the first claim: the drain rate of a backlog (--backlog).
            "drain_jobs_per_s": round(n / (finished[-1] - first_start), 1)
            if done and finished[-1] > first_start
            else None,
            "created_per_s": round(len(created) / (created[-1] - created[0]), 1)
            if len(created) > 1 and created[-1] > created[0]
            else None,
            "created_to_started": summarize([(s - c) * 1000 for c, s, _ in done]),
            "started_to_finished": summarize([(f - s) * 1000 for _, s, f in done]),
            "created_to_finished": summarize([(f - c) * 1000 for c, _, f in done]),
        }
    )
    return result


# -- reporting ---------------------------------------------------------------------------------


def _cpu(p: dict[str, Any], key: str) -> float:
    return p.get(key, {}).get("cpu_mean", 0.0)


def cpu_summary(result: dict[str, Any]) -> str:
    """Mean CPU % of the submit side, the workers, PostgreSQL and Redis."""
    p = result["processes"]
    workers = sum(_cpu(p, k) for k in p if k.startswith("worker") and k.endswith(".main"))
    parts = [f"serve {_cpu(p, 'serve.main'):.0f}"]
    if result["mode"] == "redis":
        parts.append(f"workers {workers:.0f}")
    parts.append(f"client {_cpu(p, 'bench_client.main'):.0f}")
    pg = _cpu(p, "postgres.main") + _cpu(p, "postgres.children")
    if result["mode"] == "redis":
        parts += [f"PG {pg:.0f}", f"Redis {_cpu(p, 'redis.main'):.0f}"]
    return ", ".join(parts)


def report(result: dict[str, Any]) -> str:
    sub = result["submit"]
    busy = machine_busy(result["processes"])
    lines = [
        f"throughput [{result['mode']}] via {result['via']}"
        + (" (backlog first)" if result.get("backlog") else "")
        + f", {result['workers']} worker(s)"
        f" × {result['threads']} threads, {result['jobs']} ping jobs:",
        f"  submitted in {sub['seconds']} s ({sub['per_s']}/s"
        + (f", codes {sub['codes']}" if sub.get("codes") else "")
        + ")"
        + (
            f"; submit latency p50/p99 {sub['latency']['p50']}/{sub['latency']['p99']} ms"
            if sub.get("latency")
            else ""
        ),
        f"  rows {result['statuses']}; {result['done']} succeeded in {result['span_s']} s:"
        f" {result['jobs_per_s']} jobs/s (steady {result['steady_jobs_per_s']}/s,"
        f" from the first claim {result['drain_jobs_per_s']}/s),"
        f" rows created at {result['created_per_s']}/s",
        f"  created→started  p50/p99 {result['created_to_started'].get('p50')}"
        f"/{result['created_to_started'].get('p99')} ms",
        f"  started→finished p50/p99 {result['started_to_finished'].get('p50')}"
        f"/{result['started_to_finished'].get('p99')} ms",
        f"  created→finished p50/p99 {result['created_to_finished'].get('p50')}"
        f"/{result['created_to_finished'].get('p99')} ms",
        f"  CPU % mean: {cpu_summary(result)}; machine {busy}% busy",
    ]
    lines += log_lines(result["log_errors"])
    return "\n".join(lines)


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| mode | via | workers × threads | jobs done | submits/s |"
        " jobs/s (steady; from 1st claim) |"
        " created→started p50 / p99 (ms) | created→finished p50 / p99 (ms) |"
        " CPU % mean | machine busy % |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        a, b = r["created_to_started"], r["created_to_finished"]
        busy = machine_busy(r["processes"])
        via = r["via"] + (" backlog" if r.get("backlog") else "")
        lines.append(
            f"| {r['mode']} | {via} | {r['workers']} × {r['threads']} |"
            f" {r['done']}/{r['jobs']} | {r['submit']['per_s']} |"
            f" {r['jobs_per_s']} ({r['steady_jobs_per_s']}; {r.get('drain_jobs_per_s')}) |"
            f" {a.get('p50', '–')} / {a.get('p99', '–')} |"
            f" {b.get('p50', '–')} / {b.get('p99', '–')} | {cpu_summary(r)} | {busy} |"
        )
    return "\n".join(lines)
