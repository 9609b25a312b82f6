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
import traceback
from multiprocessing.connection import Connection
from typing import Any

# The most of a tool's raw output a failure keeps (its last characters).
DETAIL_LIMIT = 8000


class WorkError(Exception):
    """A failure with a classified reason. ``transient`` ones may be retried.

    The message is what people read: plain words, no tool output. ``detail``
    keeps the raw text behind it (yt-dlp's or ffmpeg's last lines), which the
    pages show under "Details" and the API as ``error_detail``."""

    def __init__(
        self, message: str, code: str = "error", transient: bool = False, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient
        self.detail = detail.strip()[-DETAIL_LIMIT:]

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": str(self),
            "code": self.code,
            "transient": self.transient,
            "detail": self.detail,
        }


def internal_error(error: Exception) -> WorkError:
    """A bug, not a classified failure: plain words, and the traceback as detail."""
    return WorkError(
        "MVidarr hit an internal error while running this job",
        "internal",
        detail="".join(traceback.format_exception(error)),
    )


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


def main(target: str, params: dict[str, Any], conn: Connection, nice: int = 0) -> None:
    # Own process group, so the supervisor can kill us together with any
    # ffmpeg we start. Default signal dispositions: the forkserver may have
    # handed down handlers that would ignore SIGINT or delay SIGTERM.
    os.setpgid(0, 0)
    # Below the supervisor that relays our progress (ffmpeg inherits it).
    os.nice(nice)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    threading.Thread(target=_exit_with_supervisor, args=(conn,), daemon=True).start()

    module, _, name = target.partition(":")
    work = getattr(importlib.import_module(module), name)
    try:
        result = work(params, Reporter(conn))
    except WorkError as e:
        conn.send(("error", e.as_dict()))
    except Exception as e:  # a bug, not a classified failure: say what it was
        conn.send(("error", internal_error(e).as_dict()))
    else:
        conn.send(("result", result))
