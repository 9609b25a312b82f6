"""No-op job throughput, end to end: row created → claimed → finished.

``ping`` jobs do nothing in the worker (``run_inline`` returns at once, no
child process), so this measures the job system itself: the submit, the
broker, the claim, the log rows, the status events and the final write.
The figures come from the job rows (``created_at``, ``started_at`` = the
claim, ``finished_at``), read straight from the app's database by the
benchmark (SQLite file or PostgreSQL), so that polling costs no Django
start-up.

Two ways to create the jobs (``--via``):

* ``api`` (default): ``--clients`` threads, each with its own keep-alive
  ``httpx.Client``, ``POST /api/jobs {"kind": "ping"}`` back to back.
* ``direct``: ``--submitters`` ``manage.py shell -c`` processes in the app's
  environment, each calling ``Job.submit("ping", alice)`` in a loop, no HTTP.
  This separates the job system's throughput from the submit path. Redis
  mode only: in embedded mode the broker is in the ``serve`` process's
  memory, and a separate process can not reach it (its jobs would never run).

In Redis mode ``--workers`` ``manage.py worker`` processes run the jobs (the
one ``LiveApp`` starts and ``--workers - 1`` more); in both modes
``MVIDARR_DEFAULT_CONCURRENCY`` = ``--threads``, the threads per process on the
``default`` queue where ``ping`` runs. ``/proc`` is sampled every 0.5 s for the
CPU of every app process, the benchmark client, and PostgreSQL and Redis
(shared with anything else on the machine).

    .venv/bin/python -m bench.throughput [--mode embedded|redis|both] [--jobs 2000]
        [--via api|direct] [--clients 20] [--submitters 1] [--workers 2] [--threads 8]
        [--shapes 1x8,2x8,4x4] [--backlog] [--profile /path/to/py-spy]

``--backlog`` (Redis mode): stop the worker, create every job, then start the
workers: the drain rate of the job system with nothing else creating jobs
("from the first claim"). ``--profile`` records the first worker (or
``serve``) for 12 s with py-spy into /tmp/bench-throughput-<mode>.txt.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.common import (
    REPO,
    ProcSampler,
    end_runs,
    keep_run,
    log_errors,
    machine,
    modes_of,
    parse_args,
    process_roots,
    running,
    summarize,
)
from bench.jobrows import JobRows
from bench.sampling import server_pids
from bench.throughput_report import report, summarize_rows, table

DIRECT = """
import json, time
from django.contrib.auth import get_user_model
from jobs.models import Job
owner = get_user_model().objects.get(username="alice")
n = %d
t0 = time.perf_counter()
for _ in range(n):
    Job.submit("ping", owner, label="Ping")
print(json.dumps({"n": n, "seconds": time.perf_counter() - t0}))
"""


# -- submitting ---------------------------------------------------------------------------


def submit_api(app, total: int, clients: int) -> dict[str, Any]:
    """``total`` POST /api/jobs from ``clients`` threads, back to back."""
    codes: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    barrier = threading.Barrier(clients)

    def one_client(n: int) -> None:
        mine: list[float] = []
        mine_codes: dict[str, int] = {}
        with app.client("alice") as c:
            c.get("/api/jobs", params={"limit": 1})  # open the connection
            barrier.wait(30)
            for _ in range(n):
                t0 = time.perf_counter()
                try:
                    code = str(c.post("/api/jobs", json={"kind": "ping"}, timeout=30).status_code)
                except httpx.HTTPError as e:
                    code = type(e).__name__
                mine.append((time.perf_counter() - t0) * 1000)
                mine_codes[code] = mine_codes.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in mine_codes.items():
                codes[k] = codes.get(k, 0) + v

    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, share))
    seconds = time.monotonic() - t0
    return {
        "seconds": round(seconds, 2),
        "per_s": round(total / seconds, 1),
        "codes": codes,
        "latency": summarize(latencies),
    }


def submit_direct(app, total: int, submitters: int) -> dict[str, Any]:
    """``total`` Job.submit("ping") calls from ``submitters`` shell processes."""
    share = [total // submitters + (1 if i < total % submitters else 0) for i in range(submitters)]
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", DIRECT % n],
            cwd=REPO,
            env=app.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in share
    ]
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        if p.returncode:
            raise RuntimeError(f"direct submitter failed:\n{err[-2000:]}")
        outs.append(json.loads(out.splitlines()[-1]))
    seconds = time.monotonic() - t0
    loop = max(o["seconds"] for o in outs)
    return {
        "seconds": round(seconds, 2),  # with the processes' Django start-up
        "loop_seconds": round(loop, 2),
        "per_s": round(total / loop, 1),  # the submit loops alone
        "codes": {},
    }


# -- one run --------------------------------------------------------------------------------


def _wait_workers(app, names: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for name in names:
        while "Worker ready" not in app.log(name):
            if app.procs[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{app.log(name)}")
            time.sleep(0.1)
    time.sleep(0.5)  # let the consumers connect


def run(
    mode: str,
    jobs: int = 2000,
    via: str = "api",
    clients: int = 20,
    submitters: int = 1,
    workers: int = 2,
    threads: int = 8,
    timeout: float = 90.0,
    backlog: bool = False,
    profile: str | None = None,
) -> dict[str, Any]:
    if via == "direct" and mode != "redis":
        raise ValueError(
            "--via direct needs Redis mode: in embedded mode the broker lives in"
            " serve's memory, out of reach of another process"
        )
    if backlog and mode != "redis":
        raise ValueError("--backlog needs Redis mode (separate worker processes)")
    workers = workers if mode == "redis" else 1
    env = {"MVIDARR_DEFAULT_CONCURRENCY": str(threads)}
    started = time.monotonic()
    with running(mode, extra_env=env) as (app, _media):
        names = [f"worker{n}" for n in range(2, workers + 1)]
        if backlog:  # no worker while the jobs are created: they pile up in Redis
            app.stop_process("worker")
            names = ["worker", *names]
            sub = _submit(app, via, jobs, clients, submitters)
        for name in names:
            app.start_process(name, "worker")
        if mode == "redis":
            _wait_workers(app, ["worker", *names] if not backlog else names)
        roots = process_roots(app)
        servers = server_pids()
        roots.update(servers)
        db = JobRows(app)
        spy = None
        try:
            with ProcSampler(roots, tree={"postgres"} & set(servers)) as sampler:
                if profile:  # py-spy on the first worker (or serve) while the jobs run
                    target = app.procs["worker" if mode == "redis" else "serve"].pid
                    spy = subprocess.Popen(
                        [
                            profile,
                            "record",
                            "-p",
                            str(target),
                            "-d",
                            "12",
                            "-r",
                            "50",
                            "-f",
                            "raw",
                            "-o",
                            f"/tmp/bench-throughput-{mode}.txt",
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                if not backlog:
                    sub = _submit(app, via, jobs, clients, submitters)
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and db.finished() < jobs:
                    time.sleep(0.25)
            rows = db.rows()
        finally:
            db.close()
            if spy is not None:
                spy.wait(30)
        errors = log_errors(app)
    return summarize_rows(
        rows,
        {
            "mode": mode,
            "via": via,
            "backlog": backlog,
            "jobs": jobs,
            "clients": clients if via == "api" else submitters,
            "workers": workers,
            "threads": threads,
            "submit": sub,
            "log_errors": errors,
            "processes": sampler.report(),
            "seconds": round(time.monotonic() - started, 1),
        },
    )


def _submit(app, via: str, jobs: int, clients: int, submitters: int) -> dict[str, Any]:
    if via == "api":
        return submit_api(app, jobs, clients)
    return submit_direct(app, jobs, submitters)


def parse_shapes(text: str) -> list[tuple[int, int]]:
    """ "1x8,2x8,4x4" -> [(1, 8), (2, 8), (4, 4)]"""
    out = []
    for part in text.split(","):
        w, t = part.lower().split("x")
        out.append((int(w), int(t)))
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        **{
            "--jobs": {"type": int, "default": 2000},
            "--via": {"choices": ["api", "direct", "both"], "default": "api"},
            "--clients": {"type": int, "default": 20, "help": "API client threads"},
            "--submitters": {"type": int, "default": 1, "help": "direct submit processes"},
            "--workers": {"type": int, "default": 2, "help": "worker processes (redis mode)"},
            "--threads": {"type": int, "default": 8, "help": "default-queue threads per process"},
            "--shapes": {"help": "redis mode: workers×threads to try, e.g. 1x8,2x8,4x4"},
            "--timeout": {"type": float, "default": 90.0, "help": "seconds to wait for the jobs"},
            "--backlog": {
                "action": "store_true",
                "help": "redis mode: create every job with no worker running, then start"
                " the workers: the job system's drain rate without the submit side",
            },
            "--profile": {"metavar": "PY_SPY", "help": "py-spy binary: record the worker 12 s"},
        },
    )
    print(f"machine: {machine()}", flush=True)
    vias = ("api", "direct") if args.via == "both" else (args.via,)
    results = []
    for mode in modes_of(args.mode):
        shapes = parse_shapes(args.shapes) if args.shapes and mode == "redis" else None
        for via in vias:
            if via == "direct" and mode != "redis":
                print("skipped: --via direct in embedded mode (the broker is in serve's memory)")
                continue
            for workers, threads in shapes or [(args.workers, args.threads)]:
                result = run(
                    mode,
                    args.jobs,
                    via,
                    args.clients,
                    args.submitters,
                    workers,
                    threads,
                    args.timeout,
                    backlog=args.backlog,
                    profile=args.profile,
                )
                keep_run(results, result, report)
    return end_runs(args.json, results, table)


if __name__ == "__main__":
    main()
