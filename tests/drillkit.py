"""What the fault drills (tests/drills/) break things with: a Redis server and
a PostgreSQL cluster of their own to restart, a worker's processes to kill, a
WebSocket client that never reads, and the resources of a process to count."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.apikit import add_video, job_of, unique, wait_for
from tests.live import LiveApp, free_port

# -- servers the drills restart ---------------------------------------------------


class RedisServer:
    """A Redis of the drill's own on a free port, keeping nothing on disk: a
    restart loses every queued message and channel group."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, timeout=10)
        return self

    def _up(self) -> bool:
        try:
            return redis.Redis(port=self.port).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        """SIGKILL: what the server held in memory is gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


def postgres_bin() -> Path:
    """The newest PostgreSQL's binaries (Debian keeps them out of PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise RuntimeError("PostgreSQL is not installed (make drills installs it)")
    return found[-1].parent


class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir, on a free port.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` user and its tools run through ``runuser``. Nothing is
    synced to disk (a drill needs restarts, not durability)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="mvidarr-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"
        self.running = False
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{tool} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (a restart); ``immediate`` is a crash."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the app's processes ------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, …)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
        except OSError:
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_slow_download(app: LiveApp, media, rate: int = 400000) -> tuple[dict, str]:
    """A download of long.mp4 at ``rate`` B/s, once its first bytes have arrived."""
    client = app.client("alice")
    video = add_video(client, media.url(unique(f"media/long.mp4?rate={rate}")))
    job_id = client.post(f"/api/videos/{video['id']}/download").json()["job_id"]
    wait_for(lambda: (job_of(client, job_id)["progress"]["downloaded_bytes"] or 0) > 0)
    return video, job_id


def library_files(app: LiveApp) -> set[Path]:
    """The video files in the app's library."""
    return {f for f in (app.data_dir / "library").rglob("*") if f.suffix in (".mp4", ".mkv")}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- a WebSocket client that never reads ----------------------------------------------

TCP_ESTABLISHED = "01"


class SilentSocket:
    """A ``/ws/jobs/`` client that subscribes to every job and never reads again.

    Its receive buffer is kept tiny, so what the server sends soon waits in
    the server's own buffers. Spoken by hand over a raw socket: a WebSocket
    library reads (and answers pings) in the background."""

    def __init__(self, app: LiveApp, user: str) -> None:
        self.server_port = app.port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", app.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/jobs/ HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"X-Api-Key: {app.keys[user]}\r\n\r\n"
            ).encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.sock.recv(1)
        assert re.match(rb"HTTP/1.1 101", head), head
        self._send_text(json.dumps({"type": "subscribe", "all": True}))

    def _send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)

    def connected(self) -> bool:
        """Whether the server still holds the connection open (its TCP state
        on our side, read from /proc without reading the socket)."""
        local = self.sock.getsockname()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            ours = int(fields[1].rsplit(":", 1)[1], 16) == local
            if ours and int(fields[2].rsplit(":", 1)[1], 16) == self.server_port:
                return fields[3] == TCP_ESTABLISHED
        return False

    def close(self) -> None:
        self.sock.close()


class FrameLog:
    """A ``/ws/jobs/`` client subscribed to every job, reading on a thread:
    ``frames`` is ``[(received_at, frame)]``; ``closed`` the close code once
    the server has closed it."""

    def __init__(self, app: LiveApp, user: str = "alice") -> None:
        self.frames: list[tuple[float, dict]] = []
        self.closed: int | None = None
        self.ws = connect(f"{app.ws_url}/ws/jobs/", additional_headers=app.ws_headers(user))
        self.ws.send(json.dumps({"type": "subscribe", "all": True}))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                self.frames.append((time.time(), json.loads(message)))
        except ConnectionClosed:
            pass
        self.closed = self.ws.close_code

    def of(self, job_ids, kind: str) -> list[tuple[float, dict]]:
        return [(t, f) for t, f in self.frames if f["type"] == kind and f["job_id"] in job_ids]

    def close(self) -> None:
        self.ws.close()
        self.thread.join(5)
