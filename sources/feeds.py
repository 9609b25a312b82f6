"""RSS and Atom feeds, read in a check's child process (no database here).

1. ``fetch`` makes one conditional GET (``If-None-Match`` /
   ``If-Modified-Since`` from the last check) with the child's network guard
   installed, so the feed and its redirects obey the URL rule. A 304 ends the
   check; an HTML answer is not read at all (the page is yt-dlp's to list).
2. ``parse`` reads the body with defusedxml: a document that declares
   entities or fetches external ones is refused, never expanded. What is not
   RSS 2.0, RSS 1.0 (RDF) or Atom raises ``NotAFeed``.

An entry's URL follows yt-dlp's own rule for feeds (the enclosure first, then
the link), so a feed gives the same entries whether it is read here or by
yt-dlp.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Any
from urllib import request
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jobs.child import WorkError
from videos import netguard

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 2000
FETCH_TIMEOUT = 30
CHUNK = 64 * 1024
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) MVidarr"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_TYPES = ("text/html", "application/xhtml+xml")
ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
MEDIA = "{http://search.yahoo.com/mrss/}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
DC = "{http://purl.org/dc/elements/1.1/}"


class NotAFeed(ValueError):
    pass


@dataclass
class Fetched:
    status: int  # 200, or 304 for "unchanged"
    body: bytes | None  # None: not read (a 304, or a web page)
    etag: str = ""
    last_modified: str = ""


def fetch(url: str, etag: str, last_modified: str, guard: netguard.Guard) -> Fetched:
    """One conditional GET of ``url``; failures come out classified."""
    shown = url[:200]
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        req = request.Request(url, headers=headers)
        with netguard.http_opener().open(req, timeout=FETCH_TIMEOUT) as resp:
            validators = resp.headers.get("ETag", ""), resp.headers.get("Last-Modified", "")
            if resp.headers.get_content_type() in PAGE_TYPES:
                return Fetched(200, None, *validators)
            body = bytearray()
            while chunk := resp.read(CHUNK):
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    limit = MAX_FEED_BYTES // (1024 * 1024)
                    raise WorkError(f"The feed {shown} is larger than {limit} MB", "too_large")
            return Fetched(200, bytes(body), *validators)
    except HTTPError as e:
        if e.code == 304:
            return Fetched(304, None, etag, last_modified)
        code, transient = netguard.http_failure(e.code)
        raise WorkError(f"The source {shown} answered HTTP {e.code}", code, transient) from None
    except (URLError, OSError, HTTPException, ValueError) as e:
        if guard.refused:
            raise WorkError(guard.refused[0], "refused_address") from None
        reason = e.reason if isinstance(e, URLError) else e
        raise WorkError(f"Could not fetch {shown}: {reason}", "network", True) from None


def parse(body: bytes, base_url: str) -> tuple[str, list[dict[str, Any]]]:
    """The feed's title and its entries (newest first, as feeds list them)."""
    try:
        root = fromstring(body)
    except DefusedXmlException as e:
        raise WorkError(
            f"Refused the feed: it declares XML entities or external references ({e})",
            "hostile_feed",
        ) from None
    except (ET.ParseError, ValueError, RecursionError):
        raise NotAFeed("not XML") from None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise NotAFeed("an RSS document without a channel")
        return _text(channel, "title"), _entries(channel.iter("item"), _rss_entry, base_url)
    if root.tag == f"{ATOM}feed":
        entries = root.iter(f"{ATOM}entry")
        return _text(root, f"{ATOM}title"), _entries(entries, _atom_entry, base_url)
    if root.tag == f"{RDF}RDF":
        return _text(root.find(f"{RSS1}channel"), f"{RSS1}title"), _entries(
            root.iter(f"{RSS1}item"), _rdf_entry, base_url
        )
    raise NotAFeed(f"a <{root.tag[:50]}> document")


def _entries(items, read, base_url: str) -> list[dict[str, Any]]:
    found = []
    for item in items:
        entry = read(item)
        url = urljoin(base_url, entry.pop("href", "").strip())
        if urlsplit(url).scheme in ("http", "https"):
            found.append({"url": url, **entry})
        if len(found) == MAX_ENTRIES:
            break
    return found


def _text(node: ET.Element | None, tag: str) -> str:
    text = node.findtext(tag) if node is not None else None
    return " ".join((text or "").split())[:300]


def _rss_entry(item: ET.Element) -> dict[str, Any]:
    enclosure = item.find("enclosure")
    href = enclosure.get("url", "") if enclosure is not None else ""
    return {
        "href": href or _text(item, "link"),
        "title": _text(item, "title"),
        "uploader": _text(item, f"{ITUNES}author") or _text(item, f"{DC}creator"),
        "published": _rfc822_date(_text(item, "pubDate")) or _iso_date(_text(item, f"{DC}date")),
        "duration": _duration(item),
    }


def _atom_entry(entry: ET.Element) -> dict[str, Any]:
    links = {
        link.get("rel", "alternate"): link.get("href", "") for link in entry.iter(f"{ATOM}link")
    }
    published = _text(entry, f"{ATOM}published") or _text(entry, f"{ATOM}updated")
    return {
        "href": links.get("enclosure") or links.get("alternate", ""),
        "title": _text(entry, f"{ATOM}title"),
        "uploader": _text(entry.find(f"{ATOM}author"), f"{ATOM}name"),
        "published": _iso_date(published),
        "duration": _duration(entry),
    }


def _rdf_entry(item: ET.Element) -> dict[str, Any]:
    return {
        "href": _text(item, f"{RSS1}link"),
        "title": _text(item, f"{RSS1}title"),
        "uploader": _text(item, f"{DC}creator"),
        "published": _iso_date(_text(item, f"{DC}date")),
        "duration": None,
    }


def _rfc822_date(text: str) -> str:
    try:
        return parsedate_to_datetime(text).date().isoformat() if text else ""
    except (TypeError, ValueError, IndexError):
        return ""


def _iso_date(text: str) -> str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return ""


def _duration(item: ET.Element) -> float | None:
    """Seconds, from ``itunes:duration`` (``[[H:]M:]S``) or a ``media:content``."""
    text = _text(item, f"{ITUNES}duration")
    if not text:
        content = next(item.iter(f"{MEDIA}content"), None)
        text = content.get("duration", "") if content is not None else ""
    try:
        parts = [float(p) for p in text.split(":")] if text else []
    except ValueError:
        return None
    if not parts or len(parts) > 3:
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds if 0 <= seconds < 10**7 else None
