"""Oversized request bodies are refused by the running server before they are
read, and never grow its memory: streamed, chunked, or with a lying length."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

MiB = 1024 * 1024
BODY = 100 * MiB  # far over every limit; the server must not hold it


def rss(app) -> int:
    """The serve process's resident memory, in bytes."""
    status = Path(f"/proc/{app.procs['serve'].pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


class RawPost:
    """A POST written by hand, with a thread reading the answer as it comes
    (a server that closes early resets the connection; the answer must not be lost)."""

    def __init__(self, app, path: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", app.port), timeout=20)
        self.answer = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        lines = [
            f"POST {path} HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.answer += chunk
        except OSError:
            pass

    def send(self, data: bytes, total: int) -> int:
        """Send ``data`` repeatedly up to ``total`` bytes; how much went out."""
        sent = 0
        try:
            while sent < total:
                self.sock.sendall(data)
                sent += len(data)
        except OSError:
            pass
        return sent

    def status(self) -> int:
        self.reader.join(10)
        self.sock.close()
        return int(self.answer.split(b" ", 2)[1]) if self.answer else 0


@pytest.mark.parametrize("path", ["/login/", "/api/videos"])
def test_a_huge_streamed_body_is_refused_before_it_is_read(embedded_app, path):
    before = rss(embedded_app)
    post = RawPost(embedded_app, path, {"Content-Length": str(BODY), "Content-Type": "text/plain"})
    sent = post.send(b"x" * MiB, BODY)
    assert post.status() == 413
    assert sent < BODY  # the server stopped listening long before the end
    assert rss(embedded_app) - before < 20 * MiB


@pytest.mark.parametrize(("path", "limit"), [("/login/", 10 * MiB), ("/api/videos", 64 * 1024)])
def test_a_huge_chunked_body_is_refused_as_it_passes_the_limit(embedded_app, path, limit):
    before = rss(embedded_app)
    post = RawPost(embedded_app, path, {"Transfer-Encoding": "chunked"})
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"y" * 64 * 1024)
    sent = post.send(chunk, BODY)
    assert post.status() == 413
    assert sent < BODY
    assert rss(embedded_app) - before < 20 * MiB + limit


def test_a_lying_content_length_is_refused_without_waiting_for_the_body(embedded_app):
    post = RawPost(embedded_app, "/api/videos", {"Content-Length": str(50 * 1024**3)})
    post.send(b'{"url": "http://example.com/"}', 30)
    assert post.status() == 413


def test_more_bytes_than_the_declared_length_are_not_read_as_body(embedded_app):
    before = rss(embedded_app)
    post = RawPost(
        embedded_app, "/api/videos", {"Content-Length": "10", "Content-Type": "application/json"}
    )
    post.send(b"z" * MiB, BODY)
    assert 400 <= post.status() < 500
    assert rss(embedded_app) - before < 20 * MiB


def test_an_api_body_just_over_64_kib_gets_a_json_413(embedded_app):
    with embedded_app.client() as client:
        response = client.post("/api/videos", content=b"{" + b" " * 64 * 1024 + b"}")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
