"""Local media server for the test suite and benchmarks (stdlib + ffmpeg only).

The files and their faults are ``tests.mediaserver_files``; the pages and
feeds it makes up, ``tests.mediaserver_pages``. Run from the repository root::

    python -m tests.mediaserver --port 0 --cache .cache/media [--host 127.0.0.2]

On start it generates, once per cache directory, the media described in
``tests.mediagen`` (``clip.mp4``, ``long.mp4``, ``hls/clip/index.m3u8``, the
multi-variant ``hls/ladder/master.m3u8`` and the pictures ``thumb.jpg``,
``small.png`` and ``bomb.png``).  It then prints exactly one line
``PORT <n>`` to stdout and serves on 127.0.0.1 (or ``--host``) until SIGTERM.

Routes:
    GET/HEAD /media/<name>         any top-level file of the cache; single
                                   ``Range: bytes=a-b`` / ``a-`` / ``-n``
    GET/HEAD /hls/<name>/<file>    HLS playlist and segments; ``?base=URL`` on a
                                   playlist makes its segment URLs absolute on URL;
                                   ``?trace=T`` on a playlist gives each URL in it
                                   a key: ``T/<stem>`` (and trace) for a playlist,
                                   ``T/segments`` for segments, so requests are
                                   counted per variant (``T/v720/segments``)
    GET /page/<name>.html          HTML page with ``<video src="/media/<name>.mp4">``;
                                   ``?title=T`` gives the page that title
                                   ``?thumb=URL`` adds ``<meta property="og:image">``
                                   (the thumbnail yt-dlp reports), not copied on
    GET /huge.jpg?bytes=N          a JPEG's first bytes, then N bytes more; with
                                   ``&length=0`` no Content-Length (ends at close)
    GET /embed.html?src=URL        HTML page with ``<video src="URL">``
    GET /redirect?to=URL           302 to URL
    GET /blob/<name>?type=T        a small SVG-with-script body (not media) sent
                                   as T (default video/mp4), whatever <name> says
    GET /feed.xml?n=N&media=M      RSS 2.0 feed, N items (default 3) whose
                                   enclosures point to /media/M (default clip.mp4);
                                   ``base=URL`` puts the items on another server;
                                   ``titles=A|B|…`` names the items (and sets N),
                                   ``durations=S|…`` gives them itunes:duration,
                                   ``step=H`` dates them H hours apart (default 1)
                                   back from 2024-01-01; ``key=K`` counts its
                                   requests (and their statuses). It has an ETag
                                   and a Last-Modified and answers 304 to a
                                   request that has either; ``hostile=1`` is a
                                   "billion laughs" document instead; ``delay=S``
                                   answers after S seconds
    GET /stats?key=K               ``{"requests": n, "total": t, "statuses": {code: n},
                                   "log": [...]}``: requests seen for key K (and, for
                                   feeds, what they were answered), requests of any kind
                                   but /stats, and the request log of key K's /media and
                                   /hls requests, oldest first: ``{"method", "range",
                                   "status", "sent", "start", "size"}`` (the Range header
                                   or null, body bytes sent so far, the body's first byte
                                   in the file and the file's size, both null when no
                                   file body was sent; a body sent up to the file's last
                                   byte has start + sent == size)
    GET /status/<code>             answers <code> with a small body

Fault knobs (query parameters of /media and /hls; /page and /feed.xml copy
any extra parameters onto the media URLs they emit):
    rate=B          throttle the body to B bytes/s (small chunks, smooth)
    stall_after=B   send B body bytes, then hold the connection silently open
    drop_after=B    send B body bytes, then close the connection (short read)
    fail=N          the first N requests for the key answer 503
    status=CODE     always answer CODE
    key=K           counter key for ``fail`` and /stats (default: the URL path)
"""

from __future__ import annotations

import argparse
import json
import signal
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.mediagen import ensure_media
from tests.mediaserver_files import FileRoutes
from tests.mediaserver_pages import BLOB, PageRoutes


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], cache: Path) -> None:
        super().__init__(address, Handler)
        self.cache = cache.resolve()
        self.stopping = threading.Event()
        self.counts: dict[str, int] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.total = 0
        self.lock = threading.Lock()

    def server_bind(self) -> None:  # skip HTTPServer's reverse-DNS lookup
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[0], self.server_address[1]

    def hit(self, key: str) -> int:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]

    def logged(self, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests.setdefault(key, []).append(entry)
        return entry

    def answered(self, key: str, code: int) -> None:
        with self.lock:
            tally = self.statuses.setdefault(key, {})
            tally[str(code)] = tally.get(str(code), 0) + 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # real bugs still show


class Handler(FileRoutes, PageRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mediaserver/1"
    server: Server
    query: dict[str, str]
    entry: dict[str, Any] | None = None  # the request log's line of this request

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.entry is not None:
            self.entry["status"] = code
        super().send_response(code, message)

    def do_GET(self) -> None:
        self.entry = None
        url = urlsplit(self.path)
        self.query = dict(parse_qsl(url.query, keep_blank_values=True))
        path = url.path
        if path != "/stats":
            with self.server.lock:
                self.server.total += 1
        try:
            if path.startswith("/media/"):
                self._file(path, path[len("/media/") :], 1, self.server.cache)
            elif path.startswith("/hls/"):
                self._file(path, path[len("/hls/") :], 2, self.server.cache / "hls")
            elif path.startswith("/page/") and path.endswith(".html"):
                self._page(unquote(path[len("/page/") : -len(".html")]))
            elif path == "/huge.jpg":
                self._huge(int(self.query["bytes"]), self.query.get("length") != "0")
            elif path == "/feed.xml":
                self._feed()
            elif path.startswith("/blob/"):
                ctype = self.query.get("type", "video/mp4")
                self._text(200, BLOB, ctype=ctype)
            elif path == "/redirect":
                self._text(302, "moved\n", {"Location": self.query["to"]})
            elif path == "/embed.html":
                self._embed(self.query["src"])
            elif path.startswith("/status/"):
                code = int(path[len("/status/") :])
                if not 200 <= code <= 599:
                    raise ValueError(code)
                self._text(code, f"status {code}\n")
            elif path == "/stats":
                key = self.query.get("key", "")
                n = self.server.counts.get(key, 0)
                statuses = self.server.statuses.get(key, {})
                stats = {"requests": n, "total": self.server.total, "statuses": statuses}
                with self.server.lock:
                    stats["log"] = [dict(line) for line in self.server.requests.get(key, [])]
                self._text(200, json.dumps(stats), ctype="application/json")
            else:
                self._text(404, "not found\n")
        except (ValueError, KeyError):
            self._text(400, "bad request\n")

    def _text(
        self,
        code: int,
        text: str,
        headers: dict[str, str] | None = None,
        ctype: str = "text/plain; charset=utf-8",
    ) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if code in (204, 304):
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local media server for tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cache", type=Path, default=Path(".cache/media"))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    ensure_media(args.cache)
    server = Server((args.host, args.port), args.cache)
    print(f"PORT {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
