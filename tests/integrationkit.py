"""Local stand-ins for what the integrations talk to, each a real HTTP server
on 127.0.0.1 (in a thread of the test process) that records every request:

- ``Hook``: a webhook, the target of Apprise's ``json://127.0.0.1:PORT/path``;
- ``FakeJellyfin``: ``GET /System/Info``, ``POST /Library/Media/Updated`` and
  ``POST /Library/Refresh``, behind ``Authorization: MediaBrowser Token="…"``;
- ``FakePlex``: ``GET /library/sections`` (JSON, with the folders given) and
  ``GET /library/sections/{key}/refresh?path=…``, behind ``X-Plex-Token``.

A wrong token gets 401, as from the real servers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.apikit import wait_for


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: object = None  # sent as JSON unless None
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """A threaded HTTP server that records calls and answers with ``answer()``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                call = Call(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers),
                    self.rfile.read(length),
                )
                outer.calls.append(call)
                answer = outer.answer(call)
                body = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def answer(self, call: Call) -> Answer:
        return Answer()

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def wait_for_call(self, method: str, path: str, timeout: float = 30) -> Call:
        def arrived():
            return (self.calls_to(method, path) or [None])[0]

        arrived.__name__ = f"{method} {path}"
        return wait_for(arrived, timeout)

    def __enter__(self) -> FakeServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class Hook(FakeServer):
    """Takes any POST with 200; ``json_url(path)`` is the Apprise URL for it."""

    def json_url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def notifications(self) -> list[dict]:
        return [c.json() for c in self.calls if c.method == "POST"]


class FakeJellyfin(FakeServer):
    def __init__(self, token: str = "jellyfin-api-key-0123456789") -> None:
        super().__init__()
        self.token = token

    def answer(self, call: Call) -> Answer:
        if call.headers.get("Authorization") != f'MediaBrowser Token="{self.token}"':
            return Answer(401)
        if (call.method, call.path) == ("GET", "/System/Info"):
            return Answer(200, {"ServerName": "living-room", "Version": "10.11.2", "Id": "x"})
        if call.method == "POST" and call.path in ("/Library/Media/Updated", "/Library/Refresh"):
            return Answer(204)
        return Answer(404)


class FakePlex(FakeServer):
    """``folders``: the folders of its "Music Videos" section (settable later)."""

    def __init__(self, token: str = "plex-token-abcdefghijkl", folders=()) -> None:
        super().__init__()
        self.token = token
        self.folders = list(folders)

    def answer(self, call: Call) -> Answer:
        if call.headers.get("X-Plex-Token") != self.token:
            return Answer(401)
        if (call.method, call.path) == ("GET", "/library/sections"):
            sections = [
                {"key": "1", "title": "Movies", "type": "movie",
                 "Location": [{"id": 1, "path": "/srv/movies"}]},
                {"key": "7", "title": "Music Videos", "type": "movie",
                 "Location": [{"id": 2 + n, "path": f} for n, f in enumerate(self.folders)]},
            ]  # fmt: skip
            return Answer(200, {"MediaContainer": {"size": 2, "Directory": sections}})
        if call.method == "GET" and call.path.startswith("/library/sections/"):
            return Answer(200)
        return Answer(404)

    def refreshes(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/refresh")]


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
