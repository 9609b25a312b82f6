"""Run every benchmark in the chosen modes (default: both, once) and print a
markdown table of the figures against the targets.

    .venv/bin/python -m bench [--mode embedded|redis|both] [--repeat 2] [--json FILE]
        [--throughput] [--throughput-jobs 2000] [--thumbnails] [--thumbnail-jobs 1000]

``--thumbnails`` adds ``bench.thumbnails`` (``--thumbnail-jobs`` thumbnail jobs
at ``MVIDARR_IMAGE_CONCURRENCY`` 1, 2 and 4, from pictures and from frames;
embedded mode only), after the rest; ``--only thumbnails`` runs it alone.

``--throughput`` adds ``bench.throughput`` (no-op ``ping`` jobs) once per
mode, after the other benchmarks: through the API in both modes, and in Redis
mode also created in-process (``--via direct``); about 1 min per mode.
``--processing`` adds ``bench.processing`` (the progress frames of a
transcode) and ``bench.mixed`` (10 remuxes next to 10 downloads) once per
mode; about 2 min per mode.
    .venv/bin/python -m bench.run_all ...   # the same
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench import mixed, processing, progress, submit, throughput, thumbnails
from bench.common import cell, machine, modes_of, parse_args, runner_of, write_json

TARGETS = {"submit_p99": 30.0, "progress_p99": 25.0, "queued_to_running": 150.0}


def _ok(value: float | None, limit: float) -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    return "yes" if value <= limit else "**no**"


def _failures(codes: dict) -> str:
    bad = {c: n for c, n in codes.items() if str(c) != "202"}
    return "".join(f" ({n}× {c})" for c, n in bad.items())


def _md(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def table(runs: list[dict[str, Any]]) -> str:
    """Three markdown tables, one row per (mode, run): the targets, the submit
    figures, the progress figures with CPU and memory."""
    targets, submits, progresses = [], [], []
    for r in runs:
        s, p = r.get("submit"), r.get("progress")
        mode, run = r["mode"], str(r["run"])
        q = s["low_load"]["queued_to_running"] if s else None
        targets.append(
            [
                mode,
                run,
                f"{s['burst']['latency']['p99']:.0f}" if s else "–",
                _ok(s["burst"]["latency"]["p99"], TARGETS["submit_p99"]) if s else "–",
                f"{p['all']['p99']:.1f}" if p else "–",
                _ok(p["all"]["p99"], TARGETS["progress_p99"]) if p else "–",
                f"{q['p99']:.0f}" if q else "–",
                _ok(q["p99"], TARGETS["queued_to_running"]) if q else "–",
            ]
        )
        if s:
            low = s["low_load"]
            submits.append(
                [
                    mode,
                    run,
                    cell(s["burst"]["latency"]),
                    f"{s['burst']['throughput_rps']}" + _failures(s["burst"]["status_codes"]),
                    cell(s.get("paced", {}).get("latency"), ("p50", "p99")),
                    cell(low["submit"], ("p50", "p99")),
                    cell(q, ("p50", "p95", "p99", "max")),
                    cell(low["created_to_enqueued"], ("p50", "p99")),
                    cell(low["enqueued_to_started"], ("p50", "p99")),
                    f"{s['burst']['processes'].get('serve.main', {}).get('cpu_mean', '–')}",
                    str(s["burst"]["pg_connections"].get("app_db_max", "–")),
                ]
            )
        if p:
            procs = p["processes"]
            runner = runner_of(mode)
            server, worker = procs.get("serve.main", {}), procs.get("worker.main", {})
            kids = procs.get(f"{runner}.children", {})
            progresses.append(
                [
                    mode,
                    run,
                    cell(p["all"]),
                    cell(p["progress"], ("p50", "p99")),
                    cell(p["status"], ("p50", "p99")),
                    cell(p.get("steady_phase"), ("p50", "p99")),
                    cell(p.get("startup_phase"), ("p50", "p99")),
                    f"{p['frames_per_s']}",
                    cell(p.get("running_to_first_byte"), ("p50", "max")),
                    f"{server.get('cpu_mean', '–')} / {server.get('rss_max_mb', '–')}",
                    f"{worker.get('cpu_mean', '–')} / {worker.get('rss_max_mb', '–')}"
                    if worker
                    else "(in server)",
                    f"{kids.get('cpu_mean', '–')} / {kids.get('rss_max_mb', '–')}"
                    f" / {kids.get('pss_max_mb', '–')} ({kids.get('count_max', '–')})",
                    f"{procs.get('system', {}).get('cpu_busy_pct_of_all_cores', '–')}",
                ]
            )
    parts = [
        _md(
            [
                "mode",
                "run",
                "submit p99 (ms)",
                "≤ 30 ms",
                "progress p99 (ms)",
                "≤ 25 ms",
                "queued→running p99 (ms)",
                "≤ 150 ms",
            ],
            targets,
        )
    ]
    if submits:
        parts.append(
            _md(
                [
                    "mode",
                    "run",
                    "burst submit p50 / p95 / p99 / max (ms)",
                    "submits/s",
                    "paced 20/s p50 / p99",
                    "1 client p50 / p99",
                    "queued→running p50 / p95 / p99 / max",
                    "created→enqueued p50 / p99",
                    "enqueued→started p50 / p99",
                    "server CPU % (burst)",
                    "PG conns max",
                ],
                submits,
            )
        )
    if progresses:
        parts.append(
            _md(
                [
                    "mode",
                    "run",
                    "all frames p50 / p95 / p99 / max (ms)",
                    "progress p50 / p99",
                    "status p50 / p99",
                    "steady phase p50 / p99",
                    "start-up phase p50 / p99",
                    "frames/s",
                    "running→first byte p50 / max",
                    "server CPU % / RSS MB",
                    "worker CPU % / RSS MB",
                    "children CPU % / RSS / PSS MB (n)",
                    "machine busy %",
                ],
                progresses,
            )
        )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--repeat": {"type": int, "default": 1, "help": "runs per mode (the machine is noisy)"},
            "--only": {
                "choices": ["submit", "progress", "throughput", "thumbnails", "processing"],
                "help": "run one benchmark only (processing: bench.processing and bench.mixed)",
            },
            "--throughput": {"action": "store_true", "help": "also run bench.throughput"},
            "--processing": {
                "action": "store_true",
                "help": "also run bench.processing and bench.mixed",
            },
            "--throughput-jobs": {"type": int, "default": 2000},
            "--thumbnails": {"action": "store_true", "help": "also run bench.thumbnails"},
            "--thumbnail-jobs": {"type": int, "default": 1000},
        },
    )
    info = machine()
    print(f"machine: {info}", flush=True)
    runs: list[dict[str, Any]] = []
    repeat = 0 if args.only in ("throughput", "thumbnails", "processing") else args.repeat
    for n in range(1, repeat + 1):
        for mode in modes_of(args.mode):
            entry: dict[str, Any] = {"mode": mode, "run": n}
            for name, module in (("submit", submit), ("progress", progress)):
                if args.only and args.only != name:
                    continue
                entry[f"loadavg_before_{name}"] = machine()["loadavg"]
                t0 = time.monotonic()
                try:
                    entry[name] = module.run(mode)
                except Exception as e:  # noqa: BLE001 - one failed run must not lose the others
                    print(
                        f"{name} [{mode}] run {n} failed: {type(e).__name__}: {e}", file=sys.stderr
                    )
                    entry[f"{name}_error"] = f"{type(e).__name__}: {e}"
                    continue
                print(
                    module.report(entry[name]), f"\n  ({time.monotonic() - t0:.0f} s)", flush=True
                )
            runs.append(entry)
            write_json(args.json, {"machine": info, "runs": runs})
    tp: list[dict[str, Any]] = []
    if args.throughput or args.only == "throughput":
        for mode in modes_of(args.mode):
            for via in ("api", "direct") if mode == "redis" else ("api",):
                t0 = time.monotonic()
                try:
                    result = throughput.run(mode, args.throughput_jobs, via)
                except Exception as e:  # noqa: BLE001 - keep the other figures
                    print(f"throughput [{mode}] via {via} failed: {type(e).__name__}: {e}")
                    continue
                tp.append(result)
                print(throughput.report(result), f"\n  ({time.monotonic() - t0:.0f} s)", flush=True)
    thumbs: list[dict[str, Any]] = []
    if args.thumbnails or args.only == "thumbnails":
        for source in ("picture", "frame"):
            for concurrency in (1, 2, 4):
                t0 = time.monotonic()
                try:
                    result = thumbnails.run(args.thumbnail_jobs, concurrency, source, 900.0)
                except Exception as e:  # noqa: BLE001 - keep the other figures
                    print(f"thumbnails [{source} ×{concurrency}] failed: {type(e).__name__}: {e}")
                    continue
                thumbs.append(result)
                print(thumbnails.report(result), f"\n  ({time.monotonic() - t0:.0f} s)", flush=True)
    media_runs = run_media(args.mode) if args.processing or args.only == "processing" else {}
    out = table(runs) if runs else ""
    if tp:
        out = (out + "\n\n" if out else "") + throughput.table(tp)
    if thumbs:
        out = (out + "\n\n" if out else "") + thumbnails.table(thumbs)
    for name, results in media_runs.items():
        module = processing if name == "processing" else mixed
        out = (out + "\n\n" if out else "") + module.table(results)
    print()
    print(out)
    write_json(
        args.json,
        {
            "machine": info,
            "runs": runs,
            "throughput": tp,
            "thumbnails": thumbs,
            **media_runs,
            "table": out,
        },
    )


def run_media(mode_arg: str) -> dict[str, list[dict[str, Any]]]:
    """``bench.processing`` and ``bench.mixed`` once per mode."""
    results: dict[str, list[dict[str, Any]]] = {"processing": [], "mixed": []}
    for mode in modes_of(mode_arg):
        for name, module in (("processing", processing), ("mixed", mixed)):
            t0 = time.monotonic()
            try:
                result = module.run(mode)
            except Exception as e:  # noqa: BLE001 - keep the other figures
                print(f"{name} [{mode}] failed: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            results[name].append(result)
            print(module.report(result), f"\n  ({time.monotonic() - t0:.0f} s)", flush=True)
    return results


if __name__ == "__main__":
    main()
