"""What the benchmarks read off the app's sockets: every frame with its time of
receipt, from ``/ws/jobs/`` (JSON frames stamped with their publish time
``ts``) and from ``/ws/ui/`` (the HTML fragments the pages swap in, which
carry no time: each is matched to the JSON frame of the same event)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from websockets.sync.client import connect

from bench.jobrows import TERMINAL
from tests.apikit import web_session
from tests.live import LiveApp

# A progress fragment of /ws/ui/ (jobs/_progress.html): the job, its stage, its percent.
UI_PROGRESS = re.compile(r'^<div id="progress-(?P<job>[0-9a-f-]{36})"')
UI_STAGE = re.compile(r'<span class="stage">(?P<stage>[^<]*)</span>')
UI_PERCENT = re.compile(r'<span class="percent">(?P<percent>[0-9.]+)%</span>')


class Receiver(threading.Thread):
    """Reads frames off the socket as soon as they arrive: ``frames`` holds
    (time of receipt, frame) pairs, each frame as ``parse`` makes it."""

    def __init__(self, ws, parse: Callable[[str], Any] = json.loads) -> None:
        super().__init__(name="ws-receiver", daemon=True)
        self.ws = ws
        self.parse = parse
        self.frames: list[tuple[float, Any]] = []
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                raw = self.ws.recv(0.25)
            except TimeoutError:
                continue
            except Exception as e:  # noqa: BLE001 - closed socket ends the run
                if not self.stop.is_set():
                    self.error = f"{type(e).__name__}: {e}"
                return
            received = time.time()
            self.frames.append((received, self.parse(raw)))

    def finished(self) -> set[str]:
        """The jobs whose final status arrived."""
        return {
            f["job_id"]
            for _, f in list(self.frames)
            if f.get("type") == "status" and f.get("status") in TERMINAL
        }

    def wait_finished(self, job_ids: set[str], timeout: float, interval: float = 0.2) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if job_ids <= self.finished():
                return True
            time.sleep(interval)
        return False

    def of_jobs(self, job_ids: set[str]) -> list[tuple[float, dict]]:
        """The frames of these jobs that carry their publish time ``ts``."""
        return [(rx, f) for rx, f in self.frames if f.get("job_id") in job_ids and "ts" in f]


def latency_ms(
    frames: list[tuple[float, dict]], keep: Callable[[dict], bool] = lambda f: True
) -> list[float]:
    """Publish → receipt (ms) of the frames ``keep`` accepts."""
    return [(rx - f["ts"]) * 1000 for rx, f in frames if keep(f)]


@contextlib.contextmanager
def jobs_socket(app: LiveApp, user: str = "alice") -> Iterator[Receiver]:
    """``/ws/jobs/`` subscribed to all of the user's jobs, read by a Receiver."""
    with connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers(user)) as ws:
        ws.send(json.dumps({"type": "subscribe", "all": True}))
        snapshot = json.loads(ws.recv(10))
        assert snapshot["type"] == "snapshot", snapshot
        with _receiving(ws, json.loads) as receiver:
            yield receiver


@contextlib.contextmanager
def ui_socket(app: LiveApp, page: str = "library", user: str = "alice") -> Iterator[Receiver]:
    """The pages' own ``/ws/ui/`` socket, opened as a logged-in browser does."""
    web = web_session(app, user)
    headers = {"Cookie": f"sessionid={web.cookies['sessionid']}", "Origin": app.base_url}
    web.close()
    with (
        connect(f"{app.ws_url}/ws/ui/?page={page}", additional_headers=headers) as ws,
        _receiving(ws, str) as receiver,
    ):
        yield receiver


@contextlib.contextmanager
def _receiving(ws, parse) -> Iterator[Receiver]:
    receiver = Receiver(ws, parse)
    receiver.start()
    try:
        yield receiver
    finally:
        time.sleep(0.3)  # frames already in flight
        receiver.stop.set()
        receiver.join(2)


def _ui_key(html: str) -> tuple[str, str, str | None] | None:
    """(job, stage, percent as the page shows it) of a progress fragment."""
    if not (job := UI_PROGRESS.match(html)):
        return None
    stage = UI_STAGE.search(html)
    percent = UI_PERCENT.search(html)
    return (
        job["job"],
        stage["stage"] if stage else "running",
        percent["percent"] if percent else None,
    )


def ui_latencies(
    frames: list[tuple[float, dict]], fragments: list[tuple[float, str]]
) -> tuple[list[float], int]:
    """Publish → page latencies (ms) of ``/ws/ui/`` progress fragments, and
    how many fragments found no JSON frame.

    Both sockets get the same events in the same order, so for each job the
    fragments are walked alongside its JSON progress frames: each fragment
    belongs to the next JSON frame with the same stage and percent (to the
    tenth, as the page shows it), whose ``ts`` is the publish time."""
    by_job: dict[str, list[tuple[tuple, float]]] = {}
    for _, f in frames:
        if f.get("type") == "progress":
            percent = None if f.get("percent") is None else f"{f['percent']:.1f}"
            key = (f["job_id"], f.get("stage") or "running", percent)
            by_job.setdefault(f["job_id"], []).append((key, f["ts"]))
    cursor: dict[str, int] = {}
    latencies, unmatched = [], 0
    for received, html in fragments:
        if (key := _ui_key(html)) is None:
            continue
        candidates, start = by_job.get(key[0], []), cursor.get(key[0], 0)
        match = next((i for i in range(start, len(candidates)) if candidates[i][0] == key), None)
        if match is None:
            unmatched += 1
            continue
        cursor[key[0]] = match + 1
        latencies.append((received - candidates[match][1]) * 1000)
    return latencies, unmatched
