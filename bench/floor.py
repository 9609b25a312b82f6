"""The floor under a submit: server CPU per request of what any request costs.

In one app, ``--rounds`` (2) times in turn, ``--requests`` (300) sequential
requests of each: ``GET /api/health`` (no key), a 404 (``GET /api/nope``,
with a key), an authenticated ``GET /api/videos/{id}`` and a download submit
(``POST /api/videos/{id}/download``, downloads paused, cancelled after). The
web server's CPU time over each block ÷ its requests (utime + stime from
``/proc``, as ``bench.sequential``): a submit's own cost is what it costs
above the others, on the same machine at the same moment.

    .venv/bin/python -m bench.floor [--mode embedded|redis|both] [--requests 300]
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    cancel_all,
    create_videos,
    parse_args,
    run_modes,
    running,
    unique_media_urls,
)
from bench.sequential import cpu_seconds

# What each block sends: method, path ({} is a video's id), the status it answers.
REQUESTS = {
    "health": ("GET", "/api/health", 200),
    "404": ("GET", "/api/nope", 404),
    "get video": ("GET", "/api/videos/{}", 200),
    "submit": ("POST", "/api/videos/{}/download", 202),
}


def cpu_ms_per_request(app, what: str, video_ids: list[int]) -> float:
    method, path, status = REQUESTS[what]
    pid = app.procs["serve"].pid
    with app.client("alice") as client:
        client.get("/api/jobs", params={"limit": 1}).raise_for_status()  # connected, warm
        before = cpu_seconds(pid)
        for video_id in video_ids:
            response = client.request(method, path.format(video_id))
            assert response.status_code == status, response.text
        return round((cpu_seconds(pid) - before) * 1000 / len(video_ids), 2)


def run(mode: str, requests: int, rounds: int) -> dict[str, Any]:
    with running(mode) as (app, media):
        ids = create_videos(app, unique_media_urls(media, "media/clip.mp4", requests * rounds))
        staff = app.client("staff")
        staff.post("/api/queue/pause").raise_for_status()
        figures: dict[str, list[float]] = {what: [] for what in REQUESTS}
        try:
            for r in range(rounds):
                for what in REQUESTS:
                    mine = ids[r * requests : (r + 1) * requests]
                    figures[what].append(cpu_ms_per_request(app, what, mine))
                    time.sleep(0.5)
        finally:
            cancel_all(app)
            staff.post("/api/queue/resume").raise_for_status()
            staff.close()
    return {"mode": mode, "requests": requests, "cpu_ms": figures}


def report(result: dict[str, Any]) -> str:
    lines = [f"[{result['mode']}] server CPU per request, by round (ms)"]
    for kind, values in result["cpu_ms"].items():
        lines.append(f"  {kind:10s} {', '.join(str(v) for v in values)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--requests": {"type": int, "default": 300},
            "--rounds": {"type": int, "default": 2},
        },
    )
    run_modes(args, lambda mode: run(mode, args.requests, args.rounds), report)


if __name__ == "__main__":
    main()
