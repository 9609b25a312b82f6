"""Local media server for the test suite and benchmarks (stdlib + ffmpeg only).

Run from the repository root::

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
                                   "completed": c, "log": [...]}``: requests seen for key
                                   K (and, for feeds, what they were answered), requests
                                   of any kind but /stats, the /media and /hls bodies of
                                   key K sent up to the file's last byte (a whole file,
                                   or the rest of one from a Range), and the request log
                                   of key K's /media and /hls requests, oldest first:
                                   ``{"method", "range", "status", "sent"}`` (the
                                   Range header or null, body bytes sent)
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
import contextlib
import hashlib
import html
import json
import mimetypes
import os
import re
import select
import signal
import socket
import socketserver
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tests.mediagen import ensure_media

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TYPES = {".mp4": "video/mp4", ".ts": "video/mp2t", ".m3u8": "application/vnd.apple.mpegurl"}
BLOB = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>\n'
INT_KNOBS = ("rate", "stall_after", "drop_after", "fail", "status")
# An XML bomb: each entity ten of the one before (a billion "lol"s if expanded).
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>\n'
)


def _content_type(file: Path) -> str:
    return (
        TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], cache: Path) -> None:
        super().__init__(address, Handler)
        self.cache = cache.resolve()
        self.stopping = threading.Event()
        self.counts: dict[str, int] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.completed: dict[str, int] = {}
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

    def sent_to_end(self, key: str) -> None:
        with self.lock:
            self.completed[key] = self.completed.get(key, 0) + 1

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


class Handler(BaseHTTPRequestHandler):
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
                stats["completed"] = self.server.completed.get(key, 0)
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

    def _file(self, path: str, rest: str, depth: int, base: Path) -> None:
        key = self.query.get("key") or path
        n = self.server.hit(key)
        line = {"method": self.command, "range": self.headers.get("Range"), "sent": 0}
        self.entry = self.server.logged(key, line)
        knobs = {k: int(self.query[k]) for k in INT_KNOBS if k in self.query}
        if not 200 <= knobs.get("status", 200) <= 599:
            raise ValueError("status")
        parts = [unquote(p) for p in rest.split("/")]
        if len(parts) != depth or not all(SAFE_NAME.fullmatch(p) for p in parts):
            return self._text(400, "bad name\n")
        file = base.joinpath(*parts)
        if not file.is_file() or not file.resolve().is_relative_to(self.server.cache):
            return self._text(404, "not found\n")
        if "status" in knobs:
            return self._text(knobs["status"], f"forced status {knobs['status']}\n")
        if n <= knobs.get("fail", 0):
            return self._text(503, f"induced failure {n}\n")
        if file.suffix == ".m3u8" and ("base" in self.query or "trace" in self.query):
            base = self.query.get("base", "").rstrip("/")
            return self._playlist_on(file, base and base + path.rpartition("/")[0])
        with open(file, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            span = self._range(size)
            if span is None:
                return self._text(416, "unsatisfiable\n", {"Content-Range": f"bytes */{size}"})
            start, end, partial = span
            self.send_response(206 if partial else 200)
            self.send_header("Content-Type", _content_type(file))
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            sent_all = self.command != "HEAD" and self._body(f, start, end - start + 1, knobs)
            if sent_all and end == size - 1:
                self.server.sent_to_end(self.query.get("key") or path)

    def _range(self, size: int) -> tuple[int, int, bool] | None:
        """(start, end, partial) for the Range header; None if unsatisfiable."""
        m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", self.headers.get("Range", ""))
        if not m or m.groups() == ("", ""):
            return 0, size - 1, False  # absent, multi-range or malformed: whole file
        a, b = m.groups()
        if not a:  # suffix range: last b bytes
            return (max(0, size - int(b)), size - 1, True) if int(b) and size else None
        start, end = int(a), min(int(b), size - 1) if b else size - 1
        if b and int(b) < start:
            return 0, size - 1, False
        return (start, end, True) if start < size else None

    def _body(self, f: BinaryIO, start: int, length: int, knobs: dict[str, int]) -> bool:
        """Send ``length`` bytes from ``start`` as the knobs say; True if all went out."""
        rate = max(0, knobs.get("rate", 0))
        limit = min(length, knobs.get("stall_after", length), knobs.get("drop_after", length))
        chunk = min(8192, max(1, rate // 20)) if rate else 65536
        f.seek(start)
        sent, t0 = 0, time.monotonic()
        while sent < limit and not self.server.stopping.is_set():
            data = f.read(min(chunk, limit - sent))
            if not data:
                break
            self.wfile.write(data)
            sent += len(data)
            if self.entry is not None:
                self.entry["sent"] = sent
            if rate and sent < limit:
                self.server.stopping.wait(t0 + sent / rate - time.monotonic())
        if sent >= length:
            return True
        if "drop_after" in knobs and sent >= knobs["drop_after"]:
            self._drop()
        elif "stall_after" in knobs and sent >= knobs["stall_after"]:
            self._hold()
        self.close_connection = True
        return False

    def _drop(self) -> None:
        """Cut the connection mid-body: the client gets exactly the bytes sent, then EOF.

        (A TCP reset would be more brutal, but Linux discards unread data on RST,
        so the client could not tell how many bytes it got.)
        """
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _hold(self) -> None:
        """Send nothing until the client goes away or the server stops."""
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.25)
            if readable:
                try:
                    if not self.connection.recv(4096):
                        return
                except OSError:
                    return

    def _page(self, name: str) -> None:
        if not SAFE_NAME.fullmatch(name) or not (self.server.cache / f"{name}.mp4").is_file():
            return self._text(404, "not found\n")
        extra = dict(self.query)
        thumb = extra.pop("thumb", "")
        title = html.escape(extra.pop("title", "") or f"Test video {name}")
        query = urlencode(extra)
        src = html.escape(f"/media/{quote(name)}.mp4" + (f"?{query}" if query else ""))
        image = f'<meta property="og:image" content="{html.escape(thumb)}">\n' if thumb else ""
        self._text(
            200,
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>\n'
            f'<meta property="og:title" content="{title}">\n{image}</head><body><h1>{title}</h1>\n'
            f'<video src="{src}" controls></video>\n</body></html>\n',
            ctype="text/html; charset=utf-8",
        )

    def _huge(self, size: int, with_length: bool) -> None:
        """A JPEG start of image and header, then ``size`` bytes of nothing."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        if with_length:
            self.send_header("Content-Length", str(len(head) + size))
        else:
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(head)
        block = bytes(65536)
        while size > 0 and not self.server.stopping.is_set():
            self.wfile.write(block[: min(size, len(block))])
            size -= len(block)

    def _playlist_on(self, file: Path, base: str) -> None:
        """The HLS playlist with every URL in it absolute under ``base`` (if
        given) and carrying its own key under ``trace`` (if given)."""
        trace = self.query.get("trace", "")
        lines = []
        for line in file.read_text().splitlines():
            uri = line.strip()
            if uri and not line.startswith("#"):
                if trace:
                    variant = uri.endswith(".m3u8")
                    key = f"{trace}/{Path(uri).stem}" if variant else f"{trace}/segments"
                    uri += "?" + urlencode({"key": key, "trace": key} if variant else {"key": key})
                line = f"{base}/{uri}" if base else uri
            lines.append(line)
        self._text(200, "\n".join(lines) + "\n", ctype=TYPES[".m3u8"])

    def _embed(self, src: str) -> None:
        self._text(
            200,
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Embed</title></head>'
            f'<body><video src="{html.escape(src)}" controls></video></body></html>\n',
            ctype="text/html; charset=utf-8",
        )

    def _feed(self) -> None:
        extra = dict(self.query)
        key = extra.get("key", "/feed.xml")  # copied onto the items too: unique per test
        self.server.hit(key)
        if extra.pop("hostile", ""):
            self.server.answered(key, 200)
            return self._text(200, LAUGHS, ctype="application/rss+xml")
        self.server.stopping.wait(min(float(extra.pop("delay", "0")), 30))
        titles = [t for t in extra.pop("titles", "").split("|") if t]
        durations = extra.pop("durations", "").split("|")
        step = float(extra.pop("step", "1"))
        n = int(extra.pop("n", len(titles) or 3))
        media = extra.pop("media", "clip.mp4")
        file = self.server.cache / media
        if not SAFE_NAME.fullmatch(media) or not file.is_file():
            return self._text(404, "no such media\n")
        size, stem, ctype = file.stat().st_size, file.stem, _content_type(file)
        host = self.headers.get("Host") or f"{self.server.server_name}:{self.server.server_port}"
        base = extra.pop("base", "").rstrip("/") or f"http://{host}"
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        items = []
        for i in range(1, n + 1):
            query = urlencode({"item": i, **extra})
            enclosure = html.escape(f"{base}/media/{quote(media)}?{query}")
            link = html.escape(f"{base}/page/{quote(stem)}.html?{query}")
            date = format_datetime(epoch - timedelta(hours=i * step))
            title = html.escape(titles[i - 1] if i <= len(titles) else f"Item {i}")
            seconds = durations[i - 1] if i <= len(durations) else ""
            length = f"<itunes:duration>{html.escape(seconds)}</itunes:duration>" if seconds else ""
            items.append(
                f"<item><title>{title}</title>"
                f'<guid isPermaLink="false">{html.escape(stem)}-{i}</guid>'
                f"<link>{link}</link><pubDate>{date}</pubDate>{length}"
                f'<enclosure url="{enclosure}" type="{ctype}" length="{size}"/></item>\n'
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:itunes='
            '"http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>\n'
            f"<title>Test feed ({html.escape(media)})</title><link>{base}/</link>"
            f"<description>{n} items</description>\n{''.join(items)}</channel></rss>\n"
        )
        etag = '"' + hashlib.sha1(body.encode()).hexdigest() + '"'
        validators = {"ETag": etag, "Last-Modified": format_datetime(epoch, usegmt=True)}
        unchanged = self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers
            and self.headers.get("If-Modified-Since") == validators["Last-Modified"]
        )
        code = 304 if unchanged else 200
        self.server.answered(key, code)
        self._text(code, body, validators, ctype="application/rss+xml; charset=utf-8")


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
