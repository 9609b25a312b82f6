"""Thumbnail jobs: how many videos' thumbnails a box makes per second at
``MVIDARR_IMAGE_CONCURRENCY`` = 1, 2 and 4, and the memory it takes.

For each concurrency a fresh embedded app (``serve`` alone, SQLite) gets
``--jobs`` downloaded videos, each a hard link to one local 1080p clip made
here with ffmpeg, and, for the ``picture`` source, a thumbnail URL on the
local media server (its ``thumb.jpg``, 1920x1080); the ``frame`` source has
none, so each job takes a frame of the clip with ffmpeg. The Library's
"Regenerate thumbnails" button is then pressed for all of them (500 per
request, its limit): each job makes three JPEGs (320, 640, 1280 px) and the
``-thumb.jpg`` beside its video. The rate is the jobs finished from the first
claim to the last finish (the job rows, read straight from SQLite); ``/proc``
is sampled every 0.5 s for the CPU and RSS of ``serve`` and its children
(the forkserver and the jobs' processes, ffmpeg included), and for how busy
the whole machine was. The sampler misses processes that live less than a
sample's interval, as most jobs' do, so the CPU per video is also read
exactly: ``serve``'s own CPU time (the web side and the job system: claims,
supervisors, database writes) and the forkserver's with its reaped children
(the image work: every job's process and its ffmpeg), before and after.

    .venv/bin/python -m bench.thumbnails [--jobs 1000] [--concurrency 1,2,4]
        [--source picture|frame|both] [--timeout 900] [--json FILE]
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from typing import Any

from bench.common import (
    ProcSampler,
    end_runs,
    keep_run,
    log_errors,
    machine,
    machine_busy,
    parse_args,
    running,
)
from bench.jobrows import JobRows
from bench.sampling import CLK_TCK, read
from bench.throughput_report import summarize_rows
from tests.apikit import web_session

KIND = "make_thumbnails"
BULK = 500  # the Library's bulk form takes this many videos per request

CREATE = """
import json, os
from pathlib import Path
from django.conf import settings
from django.contrib.auth import get_user_model
from videos.models import Artist, Video
owner = get_user_model().objects.get(username="alice")
band = Artist.objects.named(owner.pk, "Bench")
n, thumb, clip = %d, %r, Path(%r)
folder = settings.LIBRARY_DIR / "Bench"
folder.mkdir(exist_ok=True)
videos = []
for i in range(n):
    os.link(clip, folder / f"Bench - Video {i} [b{i}].mp4")
    videos.append(Video(
        owner=owner, url=f"https://bench.invalid/{i}", title=f"Video {i}", artist=band,
        status="downloaded", file=f"Bench/Bench - Video {i} [b{i}].mp4", video_codec="h264",
        width=1920, height=1080, duration=10.0, thumbnail_url=thumb,
    ))
print(json.dumps([v.pk for v in Video.objects.bulk_create(videos)]))
"""


def make_clip(app) -> str:
    """A 10 s 1080p H.264 clip in the app's data dir (the library's disk)."""
    path = app.data_dir / "bench-clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        + ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=10"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return str(path)


def cpu_seconds(pid: int, reaped: bool) -> float:
    """A process's CPU time, with that of the children it has reaped."""
    raw = read(f"/proc/{pid}/stat") or ""
    fields = raw[raw.rfind(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def forkserver_of(pid: int) -> int:
    """The job forkserver that ``serve`` started (one of its children)."""
    for child in (read(f"/proc/{pid}/task/{pid}/children") or "").split():
        if "forkserver" in (read(f"/proc/{child}/cmdline") or ""):
            return int(child)
    raise RuntimeError("serve has no job forkserver yet")


def regenerate(app, ids: list[int]) -> float:
    """Press "Regenerate thumbnails" for every video; seconds it took."""
    web = web_session(app, "alice")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/").text).group(1)
    t0 = time.monotonic()
    for start in range(0, len(ids), BULK):
        batch = [str(i) for i in ids[start : start + BULK]]
        response = web.post(
            "/videos/bulk/thumbnails/",
            data={"video": batch, "csrfmiddlewaretoken": token},
            timeout=120,
        )
        if response.status_code != 302:
            raise RuntimeError(f"regenerate answered {response.status_code}: {response.text[:500]}")
    return time.monotonic() - t0


def run(jobs: int, concurrency: int, source: str, timeout: float) -> dict[str, Any]:
    env = {"MVIDARR_IMAGE_CONCURRENCY": str(concurrency)}
    started = time.monotonic()
    with running("embedded", extra_env=env) as (app, media):
        thumb = media.url("media/thumb.jpg") if source == "picture" else ""
        out = app.manage("shell", "-c", CREATE % (jobs, thumb, make_clip(app)))
        ids = json.loads(out.splitlines()[-1])
        db = JobRows(app, KIND)
        serve = app.procs["serve"].pid
        try:
            with ProcSampler({"serve": serve}, tree={"serve"}) as sampler:
                cpu0 = cpu_seconds(serve, False)
                submit_s = regenerate(app, ids[:1])  # starts the forkserver
                while db.finished() < 1:
                    time.sleep(0.05)
                forkserver = forkserver_of(serve)
                kids0 = cpu_seconds(forkserver, True)
                submit_s += regenerate(app, ids[1:])
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and db.finished() < jobs:
                    time.sleep(0.25)
                time.sleep(0.5)  # the last child reaped
                cpu = {"serve": cpu_seconds(serve, False) - cpu0}
                cpu["image work"] = cpu_seconds(forkserver, True) - kids0
            rows = db.rows()
        finally:
            db.close()
        errors = log_errors(app)
        made = sum(1 for p in (app.data_dir / "library" / "Bench").glob("*-thumb.jpg"))
    result = summarize_rows(
        rows,
        {
            "source": source,
            "concurrency": concurrency,
            "jobs": jobs,
            "submit_s": round(submit_s, 2),
            "thumbs_beside_videos": made,
            # CPU ms per video: serve's from the first job on, the image work's
            # from the second (the first started the forkserver).
            "cpu_ms_per_video": {
                "serve": round(cpu["serve"] * 1000 / jobs, 1),
                "image work": round(cpu["image work"] * 1000 / max(1, jobs - 1), 1),
            },
            "log_errors": errors,
            "processes": sampler.report(),
            "seconds": round(time.monotonic() - started, 1),
        },
    )
    return result


def report(r: dict[str, Any]) -> str:
    p = r["processes"]
    serve, kids = p.get("serve.main", {}), p.get("serve.children", {})
    peak = serve.get("rss_max_mb", 0) + kids.get("rss_max_mb", 0)
    return (
        f"{r['source']} ×{r['concurrency']}: {r['done']}/{r['jobs']} done {r['statuses']}, "
        f"{r['drain_jobs_per_s']} videos/s ({r['steady_jobs_per_s']} steady), "
        f"job p50 {r['started_to_finished'].get('p50', '–')} ms; CPU ms per video "
        f"{r['cpu_ms_per_video']}; CPU % serve "
        f"{serve.get('cpu_mean')} / children {kids.get('cpu_mean')} / machine busy "
        f"{machine_busy(p)} % of all cores; RSS MB serve "
        f"{serve.get('rss_max_mb')} + children {kids.get('rss_max_mb')} (PSS "
        f"{kids.get('pss_max_mb')}, ≤{kids.get('count_max')} processes) = {peak:.0f} peak; "
        f"submit {r['submit_s']} s; -thumb.jpg {r['thumbs_beside_videos']}; "
        f"errors {r['log_errors'] or 'none'}"
    )


def table(results: list[dict[str, Any]]) -> str:
    head = [
        "source",
        "concurrency",
        "videos/s (3 JPEGs each)",
        "steady /s",
        "job p50 / p99 (ms)",
        "CPU ms per video: serve / image work",
        "machine busy %",
        "peak RSS MB serve + children (PSS)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        p = r["processes"]
        serve, kids = p.get("serve.main", {}), p.get("serve.children", {})
        job = r["started_to_finished"]
        cells = [
            r["source"],
            str(r["concurrency"]),
            str(r["drain_jobs_per_s"]),
            str(r["steady_jobs_per_s"]),
            f"{job.get('p50', '–')} / {job.get('p99', '–')}",
            f"{r['cpu_ms_per_video']['serve']} / {r['cpu_ms_per_video']['image work']}",
            str(machine_busy(p)),
            f"{serve.get('rss_max_mb')} + {kids.get('rss_max_mb')} ({kids.get('pss_max_mb')})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--jobs": {"type": int, "default": 1000},
            "--concurrency": {"default": "1,2,4", "help": "MVIDARR_IMAGE_CONCURRENCY values"},
            "--source": {"choices": ["picture", "frame", "both"], "default": "both"},
            "--timeout": {"type": float, "default": 900.0, "help": "seconds to wait per run"},
        },
    )
    print(f"machine: {machine()}", flush=True)
    sources = ("picture", "frame") if args.source == "both" else (args.source,)
    results = []
    for source in sources:
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            result = run(args.jobs, concurrency, source, args.timeout)
            keep_run(results, result, report)
    return end_runs(args.json, results, table)


if __name__ == "__main__":
    main()
