"""Where a running ``serve`` can be reached, for the commands of the same data dir.

In embedded mode the broker and the channel layer live inside the ``serve``
process, so ``manage.py download`` and ``manage.py jobs`` must ask that
process to start, cancel or retry a job, and listen to its socket for
progress. ``serve`` announces itself in ``$MVIDARR_DATA_DIR/serve.json``
(``{"pid", "url"}``, mode 0600 like everything in the data dir) while it runs;
``find()`` believes the file only when that process is alive and its
``/api/health`` answers, so a file left by a killed server misleads no one.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from pathlib import Path

from django.conf import settings

# Never route a local address through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _path() -> Path:
    return settings.DATA_DIR / "serve.json"


def local_url(host: str, port: int) -> str:
    """How a command on this host reaches a server listening on ``host``."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce(host: str, port: int) -> None:
    path, part = _path(), _path().with_suffix(".part")
    data = json.dumps({"pid": os.getpid(), "url": local_url(host, port)})
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    os.replace(part, path)


def withdraw() -> None:
    """Remove the announcement, if it is still this process's own."""
    if _read().get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            _path().unlink()


def _read() -> dict:
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def find() -> str | None:
    """The base URL of the ``serve`` running on this data dir, or None."""
    data = _read()
    pid, url = data.get("pid"), data.get("url")
    if not isinstance(pid, int) or not isinstance(url, str):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, under another account
    try:
        with OPENER.open(f"{url}/api/health", timeout=2) as response:
            return url if response.status == 200 else None
    except OSError:
        return None
