"""Refuse oversized request bodies in the HTTP server, before they are read.

Daphne's HTTP layer (Twisted) receives the whole body into a buffer and then
hands it to the application in one go, so an ASGI middleware or Django's own
``DATA_UPLOAD_MAX_MEMORY_SIZE`` only sees it once it sits in memory: a 700 MB
POST grew the server by 680 MB. Here the limit is applied where bytes arrive:

1. When the headers are in, a ``Content-Length`` over the limit is answered
   413 at once and the connection closed; no byte of the body is read.
2. Without a length (chunked), the bytes are counted as they arrive and the
   request is cut off with 413 as soon as the count passes the limit.

A body that is longer than its ``Content-Length`` says is not body: Twisted
reads only the declared bytes and parses the rest as the next request, which
its own header-size limit then refuses.
"""

from __future__ import annotations

import json
import logging
from io import BytesIO

from daphne import http_protocol
from twisted.web import http

from mvidarr.middleware import API_PREFIX

logger = logging.getLogger(__name__)

API_LIMIT = 64 * 1024
API_PREFIX_BYTES = API_PREFIX.encode()
LIMIT = 10 * 1024 * 1024
# After a refusal, what the client still sends is discarded (not stored) for a
# moment before the connection closes: closing at once would reset it, and a
# reset can make the client lose the 413 answer it has not read yet.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024


def limit_for(path: bytes) -> int:
    return API_LIMIT if path.startswith(API_PREFIX_BYTES) else LIMIT


class LimitedRequest(http_protocol.WebRequest):
    _received = 0
    _discarded = 0
    _refused = False

    def _limit(self) -> int:
        return limit_for(getattr(self.channel, "_path", b"") or b"")

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > self._limit():
            self.content = BytesIO()
            self._refuse(length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES:
                self.channel.transport.loseConnection()
            return
        self._received += len(data)
        if self._received > self._limit():
            self._refuse(self._received)
            return
        super().handleContentChunk(data)

    def _refuse(self, size: int) -> None:
        self._refused = True
        limit = self._limit()
        path = (getattr(self.channel, "_path", b"") or b"").decode("latin1")[:200]
        logger.warning("Refused a request body of %s+ bytes for %s (limit %s)", size, path, limit)
        body = json.dumps({"detail": f"Request body too large (limit {limit} bytes)."}).encode()
        transport = self.channel.transport
        transport.write(
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            b"Connection: close\r\n\r\n" + body
        )
        from twisted.internet import reactor  # daphne installs its reactor first

        reactor.callLater(LINGER_SECONDS, transport.loseConnection)

    def process(self) -> None:
        if not self._refused:  # a refused body that ends is not run, only dropped
            super().process()

    def connectionLost(self, reason) -> None:
        if self._refused:  # never handed to the server: nothing of daphne's to clean up
            http.Request.connectionLost(self, reason)
            return
        super().connectionLost(reason)


def install() -> None:
    """Make daphne build ``LimitedRequest``s (its factory looks the class up
    by name each time it builds a connection's protocol)."""
    if http_protocol.WebRequest is not LimitedRequest:
        http_protocol.WebRequest = LimitedRequest
