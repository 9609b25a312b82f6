"""Run ``tests.mediaserver`` in a subprocess (for pytest fixtures and benchmarks).

with MediaServer() as media:
    url = media.url("media/clip.mp4?rate=100000&key=k1")
    ...
    assert media.stats("k1") == 1
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / ".cache" / "media"

# Never route 127.0.0.1 through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MediaServer:
    """Handle on a ``python -m tests.mediaserver`` child process."""

    def __init__(
        self,
        cache: str | os.PathLike[str] | None = None,
        port: int = 0,
        # A cold cache is filled first (tests.mediagen: ~10 s of CPU in all,
        # several times that on a busy shared machine).
        startup_timeout: float = 180.0,
        host: str = "127.0.0.1",
        # A command the server runs under, e.g. ``ip netns exec NS`` (tests.netnskit).
        wrapper: tuple[str, ...] = (),
    ) -> None:
        self.host = host
        self.wrapper = wrapper
        self.cache = Path(cache).resolve() if cache is not None else DEFAULT_CACHE
        self.port = port
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._stderr_text = ""
        self.returncode: int | None = None  # set by stop()

    def start(self) -> MediaServer:
        """Start the server (generating media if needed); returns self."""
        if self._proc is not None:
            return self
        # Closed in stop(); read back by name so the child's file offset is untouched.
        self._stderr = tempfile.NamedTemporaryFile(prefix="mediaserver-", suffix=".err")  # noqa: SIM115
        cmd = [*self.wrapper, sys.executable, "-m", "tests.mediaserver", "--port", str(self.port)]
        cmd += ["--host", self.host]
        self._proc = proc = subprocess.Popen(
            [*cmd, "--cache", str(self.cache)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        lines: list[bytes] = []
        assert proc.stdout is not None
        stdout = proc.stdout
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        line = lines[0].decode(errors="replace").strip() if lines else ""
        if not line.startswith("PORT "):
            died = proc.poll() is not None
            self.stop()
            reason = "exited" if died else f"gave no PORT line within {self.startup_timeout:g} s"
            raise RuntimeError(f"mediaserver {reason}; stderr:\n{self._stderr_text}")
        self.port = int(line.split()[1])
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "") -> str:
        """``url("media/clip.mp4")`` -> ``http://127.0.0.1:PORT/media/clip.mp4``."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def stats(self, key: str) -> int:
        """How many /media or /hls requests the server saw with ``key=<key>``."""
        with _OPENER.open(self.url(f"stats?key={quote(key)}"), timeout=10) as resp:
            return int(json.load(resp)["requests"])

    def statuses(self, key: str) -> dict[int, int]:
        """What the requests with ``key=<key>`` were answered: ``{200: n, 304: m}`` (feeds)."""
        with _OPENER.open(self.url(f"stats?key={quote(key)}"), timeout=10) as resp:
            return {int(code): n for code, n in json.load(resp)["statuses"].items()}

    def completed(self, key: str) -> int:
        """How many bodies of ``key=<key>`` went out up to the file's last byte
        (a whole file, or the rest of one from a Range), from the request log."""
        return sum(
            1
            for line in self.requests(key)
            if line["method"] == "GET"
            and line["size"] is not None
            and line["start"] + line["sent"] == line["size"]
        )

    def total(self) -> int:
        """How many requests of any kind (but /stats) the server has answered."""
        with _OPENER.open(self.url("stats"), timeout=10) as resp:
            return int(json.load(resp)["total"])

    def requests(self, key: str) -> list[dict]:
        """The request log of ``key=<key>``: ``[{"method", "range", "status", "sent",
        "start", "size"}]`` (see ``tests.mediaserver``)."""
        with _OPENER.open(self.url(f"stats?key={quote(key)}"), timeout=10) as resp:
            return json.load(resp)["log"]

    @property
    def stderr(self) -> str:
        """Everything the server wrote to stderr so far (should stay empty)."""
        if self._stderr is not None:
            with open(self._stderr.name, "rb") as f:
                return f.read().decode(errors="replace")
        return self._stderr_text

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, then SIGKILL if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.returncode = proc.returncode
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr_text = self.stderr
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> MediaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
