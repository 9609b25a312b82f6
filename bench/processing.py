"""Processing progress: how often and how late the progress frames of a
transcode reach a WebSocket subscriber.

``--jobs`` (1) downloads of ``heavy.mp4`` (20 s of 1280x720 MPEG-4 Part 2,
12 MB, from the local media server, unthrottled) with an H.264 profile, so
ffmpeg transcodes each one (``MVIDARR_FFMPEG_PRESET``, default veryfast):
several seconds on 2 cores. One client, subscribed to all of alice's jobs
over ``/ws/jobs/``, records every frame with its time of receipt. For the
``processing`` stage of each job (from its first frame with ffmpeg's percent
to its last): frames per second, the largest gap between two frames, and the
latency ``receipt - ts`` (``ts`` is stamped by the publisher), p50/p99.
``/proc`` is sampled for the CPU of the app and of the job processes
(ffmpeg included).

    .venv/bin/python -m bench.processing [--mode embedded|redis|both] [--jobs 1]
        [--preset veryfast]
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.common import (
    ProcSampler,
    cancel_all,
    cell,
    fmt,
    log_errors,
    log_lines,
    machine_busy,
    parse_args,
    process_roots,
    run_modes,
    runner_of,
    running,
    summarize,
)
from bench.frames import jobs_socket, latency_ms
from tests.apikit import add_profile, submit_download, unique

HEAVY = "media/heavy.mp4"


def stage_frames(frames: list[tuple[float, dict]], job_ids: set[str], stage: str) -> dict:
    """Per job, the progress frames of ``stage`` that carry a percent."""
    out: dict[str, list[tuple[float, dict]]] = {}
    for rx, f in frames:
        if (
            f.get("job_id") in job_ids
            and f.get("type") == "progress"
            and f.get("stage") == stage
            and f.get("percent") is not None
        ):
            out.setdefault(f["job_id"], []).append((rx, f))
    return out


def rates(per_job: dict[str, list[tuple[float, dict]]]) -> dict[str, Any]:
    """Frames per second of each job's stage, and the largest gap (ms)."""
    fps, gaps, seconds = [], [], []
    for frames in per_job.values():
        ts = [f["ts"] for _, f in frames]
        if len(ts) > 1:
            seconds.append(ts[-1] - ts[0])
            fps.append((len(ts) - 1) / (ts[-1] - ts[0]))
            gaps.append(max(b - a for a, b in zip(ts, ts[1:], strict=False)) * 1000)
    return {
        "frames_per_s": round(sum(fps) / len(fps), 2) if fps else None,
        "max_gap_ms": round(max(gaps), 1) if gaps else None,
        "stage_s": round(sum(seconds) / len(seconds), 1) if seconds else None,
    }


def run(mode: str, jobs: int = 1, preset: str = "veryfast", cap: float = 180.0) -> dict:
    env = {"MVIDARR_DOWNLOAD_CONCURRENCY": str(jobs), "MVIDARR_FFMPEG_PRESET": preset}
    started = time.monotonic()
    with running(mode, extra_env=env) as (app, media):
        profile = add_profile(app, video_codec="h264")["name"]
        roots = process_roots(app, media)
        with app.client("alice") as client, jobs_socket(app) as receiver:
            with ProcSampler(roots, tree={runner_of(mode)}) as sampler:
                job_ids = {
                    submit_download(client, media.url(unique(HEAVY)), profile=profile)
                    for _ in range(jobs)
                }
                receiver.wait_finished(job_ids, cap)
            final = [client.get(f"/api/jobs/{j}").json() for j in job_ids]
        cancel_all(app)
        errors = log_errors(app)
    per_job = stage_frames(receiver.frames, job_ids, "processing")
    latencies = [ms for frames in per_job.values() for ms in latency_ms(frames)]
    statuses = dict(Counter(job["status"] for job in final))
    return {
        "mode": mode,
        "jobs": jobs,
        "preset": preset,
        "latency": summarize(latencies),
        **rates(per_job),
        "final_statuses": statuses,
        "receiver_error": receiver.error,
        "log_errors": errors,
        "processes": sampler.report(),
        "seconds": round(time.monotonic() - started, 1),
    }


def report(result: dict[str, Any]) -> str:
    procs = result["processes"]
    kids = procs.get(f"{runner_of(result['mode'])}.children", {})
    lines = [
        f"processing [{result['mode']}] {result['jobs']} transcode(s), preset"
        f" {result['preset']}: jobs {result['final_statuses']}",
        f"  processing frames  {fmt(result['latency'], ('p50', 'p99', 'max'))}",
        f"  frames/s {result['frames_per_s']} per job, largest gap {result['max_gap_ms']} ms,"
        f" stage {result['stage_s']} s",
        f"  job processes CPU mean {kids.get('cpu_mean')}%, machine busy {machine_busy(procs)}%",
    ]
    if result["receiver_error"]:
        lines.append(f"  receiver error {result['receiver_error']}")
    lines += log_lines(result["log_errors"])
    return "\n".join(lines)


def table(results: list[dict[str, Any]]) -> str:
    """One markdown row per run."""
    rows = [
        "| mode | preset | frames/s | largest gap (ms) | p50 / p99 / max (ms) | stage (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        figures = cell(r["latency"], ("p50", "p99", "max"))
        rows.append(
            f"| {r['mode']} | {r['preset']} | {r['frames_per_s']} | {r['max_gap_ms']} |"
            f" {figures} | {r['stage_s']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--jobs": {"type": int, "default": 1},
            "--preset": {"default": "veryfast"},
        },
    )
    run_modes(args, lambda mode: run(mode, args.jobs, args.preset), report)


if __name__ == "__main__":
    main()
