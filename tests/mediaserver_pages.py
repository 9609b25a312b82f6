"""The media server's made-up documents (``tests.mediaserver``): video pages,
embeds, RSS feeds (and a hostile one), and endless JPEGs."""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from tests.mediaserver_files import SAFE_NAME, content_type

if TYPE_CHECKING:
    from tests.mediaserver import Server

BLOB = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>\n'
# An XML bomb: each entity ten of the one before (a billion "lol"s if expanded).
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>\n'
)


class PageRoutes:
    """Mixed into ``tests.mediaserver.Handler`` (a ``BaseHTTPRequestHandler``)."""

    server: Server
    query: dict[str, str]

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
        size, stem, ctype = file.stat().st_size, file.stem, content_type(file)
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
