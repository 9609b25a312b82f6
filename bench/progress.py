"""Progress latency: how late progress and status frames reach a WebSocket
subscriber while many downloads run, and what the app costs in CPU and memory.

``--jobs`` (20) throttled downloads of ``long.mp4`` (2 MB at 100 kB/s, about
20 s each) run at once (``MVIDARR_DOWNLOAD_CONCURRENCY`` = jobs). One client
is subscribed to all of alice's jobs over ``/ws/jobs/``; a thread of its own
receives, and for every ``progress`` and ``status`` frame records
``receipt time - frame["ts"]`` (``ts`` is stamped by the publisher just
before it hands the frame to the channel layer, so this is the publish →
channel layer → consumer → daphne → socket → client path). Meanwhile
``/proc`` is sampled every 0.5 s for CPU% and RSS of the web server, and in
Redis mode of the worker and the scheduler; for the process that runs the
jobs, its descendants (forkserver, yt-dlp children, ffmpeg) are summed
separately. The run ends when every job has finished, or after ``--cap``
(30) seconds, when the rest are cancelled.

    .venv/bin/python -m bench.progress [--mode embedded|redis|both]
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.common import (
    ProcSampler,
    cancel_all,
    create_videos,
    fmt,
    log_errors,
    log_lines,
    parse_args,
    process_roots,
    run_modes,
    runner_of,
    running,
    summarize,
    unique_media_urls,
)
from bench.frames import jobs_socket, latency_ms

MEDIA_PATH = "media/long.mp4?rate=100000"


def run(mode: str, jobs: int = 20, cap: float = 30.0) -> dict[str, Any]:
    env = {"MVIDARR_DOWNLOAD_CONCURRENCY": str(jobs)}
    started = time.monotonic()
    with running(mode, extra_env=env) as (app, media):
        ids = create_videos(app, unique_media_urls(media, MEDIA_PATH, jobs))
        roots = process_roots(app, media)
        with app.client("alice") as client:
            with (
                jobs_socket(app) as receiver,
                ProcSampler(roots, tree={runner_of(mode)}) as sampler,
            ):
                t0 = time.time()
                job_ids = set()
                for video_id in ids:
                    r = client.post(f"/api/videos/{video_id}/download")
                    r.raise_for_status()
                    job_ids.add(r.json()["job_id"])
                submitted = time.time() - t0
                receiver.wait_finished(job_ids, cap)
                elapsed = time.time() - t0
            final = [client.get(f"/api/jobs/{j}").json() for j in job_ids]
        cancelled = cancel_all(app)
        errors = log_errors(app)

    ours = receiver.of_jobs(job_ids)
    progress = latency_ms(ours, lambda f: f["type"] == "progress")
    status = latency_ms(ours, lambda f: f["type"] == "status")
    window = (ours[-1][0] - ours[0][0]) if len(ours) > 1 else 0.0
    # Per job: from its "running" frame to its first progress frame with bytes
    # (the child's start-up: fork, yt-dlp's extractor matching, the request).
    running_at: dict[str, float] = {}
    first_byte: dict[str, float] = {}
    for _, f in ours:
        job = f["job_id"]
        if f["type"] == "status" and f.get("status") == "running":
            running_at.setdefault(job, f["ts"])
        elif f["type"] == "progress" and (f.get("downloaded_bytes") or 0) > 0:
            first_byte.setdefault(job, f["ts"])
    startup = [(first_byte[j] - running_at[j]) * 1000 for j in first_byte if j in running_at]
    # Start-up phase: until every job has its first byte (submits, forks,
    # yt-dlp start-up); steady phase: the downloads just stream.
    steady_from = max(first_byte.values()) if len(first_byte) == len(job_ids) else float("inf")
    startup_phase = latency_ms(ours, lambda f: f["ts"] < steady_from)
    steady_phase = latency_ms(ours, lambda f: f["ts"] >= steady_from)
    statuses = dict(Counter(job["status"] for job in final))
    return {
        "mode": mode,
        "jobs": jobs,
        "all": summarize(progress + status),
        "progress": summarize(progress),
        "status": summarize(status),
        "frames": len(ours),
        "frames_per_s": round(len(ours) / window, 1) if window else None,
        "negative_latencies": sum(1 for x in progress + status if x < 0),
        "submit_all_s": round(submitted, 2),
        "run_s": round(elapsed, 1),
        "final_statuses": statuses,
        "cancelled_at_cap": cancelled,
        "receiver_error": receiver.error,
        "log_errors": errors,
        "running_to_first_byte": summarize(startup),
        "startup_phase": summarize(startup_phase),
        "steady_phase": summarize(steady_phase),
        "jobs_without_bytes": len(job_ids) - len(first_byte),
        "final_percent": summarize([j["progress"]["percent"] or 0.0 for j in final]),
        "processes": sampler.report(),
        "seconds": round(time.monotonic() - started, 1),
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"progress [{result['mode']}] {result['jobs']} concurrent downloads,"
        f" run {result['run_s']} s:",
        f"  all frames      {fmt(result['all'])}",
        f"  progress frames {fmt(result['progress'])}",
        f"  status frames   {fmt(result['status'])}",
        f"  frames/s        {result['frames_per_s']} ({result['frames']} frames);"
        f" jobs {result['final_statuses']}"
        + (f"; receiver error {result['receiver_error']}" if result["receiver_error"] else ""),
    ]
    fp = result["final_percent"]
    lines.append(
        f"  job progress at the end: min {fp['min']}% median {fp['p50']}% max {fp['max']}%"
    )
    lines.append(
        f"  running -> first byte   {fmt(result['running_to_first_byte'], ('p50', 'max'))}"
        f"; {result['jobs_without_bytes']} jobs got no byte"
    )
    lines.append(f"  frames, start-up phase  {fmt(result['startup_phase'])}")
    lines.append(f"  frames, steady phase    {fmt(result['steady_phase'])}")
    lines += log_lines(result["log_errors"])
    for key, p in result["processes"].items():
        if key == "system":
            lines.append(
                f"  system          {p['cpu_busy_pct_of_all_cores']}% of {p['cores']} cores"
                f" busy over {p['seconds']} s"
            )
            continue
        if not p["rss_max_mb"] and not p["cpu_mean"]:
            continue
        extra = (
            f", PSS max {p['pss_max_mb']} MB, up to {p['count_max']} procs"
            if "pss_max_mb" in p
            else ""
        )
        lines.append(
            f"  {key:<22} CPU mean {p['cpu_mean']}% max {p['cpu_max']}%, "
            f"RSS mean {p['rss_mean_mb']} MB max {p['rss_max_mb']} MB{extra}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--jobs": {"type": int, "default": 20},
            "--cap": {"type": float, "default": 30.0},
        },
    )
    run_modes(args, lambda mode: run(mode, args.jobs, args.cap), report)


if __name__ == "__main__":
    main()
