"""What runs inside a job's child process. No Django here: the child only does
the slow work (yt-dlp, ffmpeg) and reports over its pipe; the supervisor in
the worker owns the database.

Messages to the supervisor are tuples: ``("progress", {...})``,
``("log", level, text)``, ``("emit", payload)``, ``("result", {...})`` and ``("error", {...})``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any


class WorkError(Exception):
    """A failure with a classified reason. ``transient`` ones may be retried."""

    def __init__(self, message: str, code: str = "error", transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


class Reporter:
    """Sends progress to the supervisor, at most every ``interval`` seconds."""

    def __init__(self, conn: Connection, interval: float = 0.05) -> None:
        self._conn = conn
        self._interval = interval
        self._last = 0.0
        self._stage = ""

    def progress(self, force: bool = False, **state: Any) -> None:
        now = time.monotonic()
        stage = state.get("stage", self._stage)
        if not force and stage == self._stage and now - self._last < self._interval:
            return
        self._stage = stage
        self._last = now
        self._conn.send(("progress", state))

    def emit(self, payload: Any) -> None:
        """Hand the supervisor a piece of the result (e.g. a batch of playlist entries)."""
        self._conn.send(("emit", payload))

    def log(self, level: str, text: str) -> None:
        self._conn.send(("log", level, text))


def _exit_with_supervisor(conn: Connection) -> None:
    """The supervisor never writes to us: EOF means it died, so we die too."""
    with contextlib.suppress(EOFError, OSError):
        conn.recv()
    os.killpg(0, signal.SIGKILL)


def main(target: str, params: dict[str, Any], conn: Connection) -> None:
    # Own process group, so the supervisor can kill us together with any
    # ffmpeg we start. Default signal dispositions: the forkserver may have
    # handed down handlers that would ignore SIGINT or delay SIGTERM.
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    threading.Thread(target=_exit_with_supervisor, args=(conn,), daemon=True).start()

    module, _, name = target.partition(":")
    work = getattr(importlib.import_module(module), name)
    try:
        result = work(params, Reporter(conn))
    except WorkError as e:
        conn.send(("error", {"message": str(e), "code": e.code, "transient": e.transient}))
    except Exception as e:  # a bug, not a classified failure: say what it was
        conn.send(
            (
                "error",
                {"message": f"{type(e).__name__}: {e}", "code": "internal", "transient": False},
            )
        )
    else:
        conn.send(("result", result))
