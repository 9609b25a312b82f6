"""``manage.py serve --processes N``: several web processes on one port in
scaled mode, sharing the listening socket; refused in embedded mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.apikit import wait_for
from tests.live import REPO, LiveApp


def sockets_by_pid(port: int, pids: set[int], state: str) -> dict[int, int]:
    """TCP sockets on the local ``port`` in ``state`` ("01" established, "0A"
    listening), per process holding them."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    counts = dict.fromkeys(pids, 0)
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                counts[pid] += 1
    return counts


def serve_pids(app: LiveApp) -> set[int]:
    parent = app.procs["serve"].pid
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return {parent, *map(int, children)}


def test_several_web_processes_share_one_port_and_stop_with_the_first():
    with LiveApp("redis", serve_args=("--processes", "3")) as app:

        def three():  # processes that listen on the port
            pids = serve_pids(app)
            listening = sockets_by_pid(app.port, pids, "0A")
            return pids if sum(1 for n in listening.values() if n) == 3 else None

        pids = wait_for(three, timeout=20)
        sockets = []
        try:
            for _ in range(15):  # each socket stays with the process that accepted it
                ws = connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers("alice"))
                ws.send(json.dumps({"type": "ping"}))
                assert json.loads(ws.recv(5)) == {"type": "pong"}
                sockets.append(ws)
            counts = sockets_by_pid(app.port, pids, "01")
            assert sum(counts.values()) == 15
            assert sum(1 for n in counts.values() if n) >= 2, counts
        finally:
            for ws in sockets:
                ws.close()
        os.kill(app.procs["serve"].pid, signal.SIGKILL)  # the first process alone, abruptly
        app.procs["serve"].wait(20)

        def all_gone():
            return not any(Path(f"/proc/{pid}").exists() for pid in pids)

        wait_for(all_gone, timeout=20)


def test_embedded_mode_refuses_several_web_processes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--processes", "2", "--no-migrate"],
        cwd=REPO,
        env={**env, "MVIDARR_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "set REDIS_URL" in result.stderr


pytestmark = pytest.mark.live
