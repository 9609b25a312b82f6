"""The media server's files (``tests.mediaserver``): /media and /hls, with
single ranges, the fault and throttle knobs, and HLS playlists rewritten to
absolute or traced URLs."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import select
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlencode

if TYPE_CHECKING:
    from tests.mediaserver import Server

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TYPES = {".mp4": "video/mp4", ".ts": "video/mp2t", ".m3u8": "application/vnd.apple.mpegurl"}
INT_KNOBS = ("rate", "stall_after", "drop_after", "fail", "status")


def content_type(file: Path) -> str:
    return (
        TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )


class FileRoutes:
    """Mixed into ``tests.mediaserver.Handler`` (a ``BaseHTTPRequestHandler``)."""

    server: Server
    query: dict[str, str]
    entry: dict[str, Any] | None

    def _file(self, path: str, rest: str, depth: int, base: Path) -> None:
        key = self.query.get("key") or path
        n = self.server.hit(key)
        # Every key there from the start: /stats copies lines while they change.
        line = {"method": self.command, "range": self.headers.get("Range"), "status": None}
        line |= {"sent": 0, "start": None, "size": None}
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
            self.entry.update(start=start, size=size)
            self.send_response(206 if partial else 200)
            self.send_header("Content-Type", content_type(file))
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command != "HEAD":
                self._body(f, start, end - start + 1, knobs)

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

    def _body(self, f: BinaryIO, start: int, length: int, knobs: dict[str, int]) -> None:
        """Send ``length`` bytes from ``start`` as the knobs say (the request
        log's ``sent`` counts them as they go)."""
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
            return
        if "drop_after" in knobs and sent >= knobs["drop_after"]:
            self._drop()
        elif "stall_after" in knobs and sent >= knobs["stall_after"]:
            self._hold()
        self.close_connection = True

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
