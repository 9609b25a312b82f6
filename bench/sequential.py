"""One client at a time: what a single person or script sees.

1. **Completed**: ``--completed`` (10) times, submit one unthrottled download
   of ``long.mp4`` (2.0 MB) with every worker idle and wait for it; reported
   is ``finished_at − created_at`` from the job row: submit → file in the
   library.
2. **CPU per submit**: downloads paused (so no worker runs), ``--submits``
   (200) sequential ``POST /api/videos/{id}/download`` of pre-created videos;
   the web server's CPU time over them ÷ their number (utime + stime from
   ``/proc``, every thread of the process). Then everything is cancelled.
3. **Submit while jobs finish**: ``--submits`` sequential submits of
   unthrottled downloads of ``clip.mp4`` (364 kB) with the default
   concurrency, so jobs finish all the time while the client submits;
   reported is each submit's round-trip latency.
   With ``--cpu-only N``, only this, N times in one app (for A/B runs of
   ``bench.compare``: the CPU figures of a noisy machine need many blocks).
4. **Pick-up**: ``--completed`` × 3 no-op ``ping`` jobs, one at a time, each
   after half a second with every worker idle; reported are ``started_at −
   created_at`` (how long an idle worker takes to notice a job) and
   ``finished_at − created_at`` from the job row.

    .venv/bin/python -m bench.sequential [--mode embedded|redis|both] [--cpu-only N --submits 400]
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    cancel_all,
    create_videos,
    fmt,
    modes_of,
    parse_args,
    parse_ts,
    running,
    summarize,
    unique_media_urls,
    wait_idle,
    write_json,
)
from bench.sampling import read
from tests.apikit import finished

TICKS_PER_S = 100


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) in seconds."""
    raw = read(f"/proc/{pid}/stat") or ""
    rest = raw[raw.rfind(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / TICKS_PER_S


def completed(app, media, n: int) -> dict[str, Any]:
    times = []
    with app.client("alice") as client:
        for url in unique_media_urls(media, "media/long.mp4", n):
            r = client.post("/api/jobs", json={"kind": "download_video", "url": url})
            job = finished(client, r.json()["id"], timeout=60)
            if job["status"] == "succeeded":
                times.append((parse_ts(job["finished_at"]) - parse_ts(job["created_at"])) * 1000)
            time.sleep(0.3)
    return summarize(times)


def cpu_per_submit(app, media, n: int) -> dict[str, Any]:
    ids = create_videos(app, unique_media_urls(media, "media/clip.mp4", n))
    staff, pid = app.client("staff"), app.procs["serve"].pid
    staff.post("/api/queue/pause").raise_for_status()
    latencies = []
    try:
        with app.client("alice") as client:
            client.get("/api/jobs", params={"limit": 1}).raise_for_status()
            before, t0 = cpu_seconds(pid), time.perf_counter()
            for video_id in ids:
                t = time.perf_counter()
                client.post(f"/api/videos/{video_id}/download").raise_for_status()
                latencies.append((time.perf_counter() - t) * 1000)
            cpu, wall = cpu_seconds(pid) - before, time.perf_counter() - t0
    finally:
        cancel_all(app)
        staff.post("/api/queue/resume").raise_for_status()
        staff.close()
    return {
        "cpu_ms_per_submit": round(cpu * 1000 / n, 2),
        "wall_s": round(wall, 2),
        "latency": summarize(latencies),
    }


def while_finishing(app, media, n: int) -> dict[str, Any]:
    ids = create_videos(app, unique_media_urls(media, "media/clip.mp4", n))
    latencies = []
    with app.client("alice") as client:
        client.get("/api/jobs", params={"limit": 1}).raise_for_status()
        for video_id in ids:
            t = time.perf_counter()
            client.post(f"/api/videos/{video_id}/download").raise_for_status()
            latencies.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
        wait_idle(client, timeout=120)
        done = client.get("/api/jobs/stats").json()["by_status"]
    return {"latency": summarize(latencies), "by_status": done}


def run(mode: str, completed_n: int = 10, submits: int = 200, cpu_only: int = 0) -> dict[str, Any]:
    with running(mode) as (app, media):
        if cpu_only:
            blocks = [cpu_per_submit(app, media, submits) for _ in range(cpu_only)]
            return {"mode": mode, "cpu_blocks": blocks}
        return {
            "mode": mode,
            "completed_ms": completed(app, media, completed_n),
            "cpu": cpu_per_submit(app, media, submits),
            "while_finishing": while_finishing(app, media, submits),
            "pickup": pickup(app, completed_n * 3),
        }


def pickup(app, n: int) -> dict[str, Any]:
    started, done = [], []
    with app.client("alice") as client:
        for _ in range(n):
            time.sleep(0.5)  # every consumer idle again, as after a quiet spell
            job = finished(client, client.post("/api/jobs", json={"kind": "ping"}).json()["id"])
            created = parse_ts(job["created_at"])
            started.append((parse_ts(job["started_at"]) - created) * 1000)
            done.append((parse_ts(job["finished_at"]) - created) * 1000)
    return {"started_ms": summarize(started), "finished_ms": summarize(done)}


def report(result: dict[str, Any]) -> str:
    if "cpu_blocks" in result:
        figures = ", ".join(str(block["cpu_ms_per_submit"]) for block in result["cpu_blocks"])
        return f"[{result['mode']}] sequential\n  server CPU per submit, by block: {figures} ms"
    return "\n".join(
        [
            f"[{result['mode']}] sequential",
            f"  submit → completed, 2.0 MB unthrottled (ms): {fmt(result['completed_ms'])}",
            f"  server CPU per submit: {result['cpu']['cpu_ms_per_submit']} ms"
            f" (latency {fmt(result['cpu']['latency'])})",
            f"  submit while jobs finish (ms): {fmt(result['while_finishing']['latency'])}",
            f"  no-op job, created → started (ms): {fmt(result['pickup']['started_ms'])}",
            f"  no-op job, created → finished (ms): {fmt(result['pickup']['finished_ms'])}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--completed": {"type": int, "default": 10},
            "--submits": {"type": int, "default": 200},
            "--cpu-only": {"type": int, "default": 0, "metavar": "N"},
        },
    )
    results = []
    for mode in modes_of(args.mode):
        results.append(run(mode, args.completed, args.submits, args.cpu_only))
        print(report(results[-1]), flush=True)
        write_json(args.json, results)


if __name__ == "__main__":
    main()
