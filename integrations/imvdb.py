"""IMVDb, the Internet Music Video Database: the only module that talks to
its API (v1, https://imvdb.com/api). No Django here: it runs in a job's child
process, handed the key and the address as plain parameters.

- ``GET /search/entities?q=NAME`` finds artists (``results``: ``id``, ``slug``,
  ``name`` — often null, so a match is made on the slug too);
- ``GET /entity/{id}?include=artist_videos`` lists an artist's videos
  (``artist_videos.videos``: ``id``, ``song_title``, ``year``, ``url``, ``artists``);
- ``GET /video/{id}?include=sources`` gives a video's ``directors`` and
  ``sources`` (``{"source": "youtube"|"vimeo"|…, "source_data": id, "is_primary"}``).

Every request carries the key in ``IMVDB-APP-KEY`` (never in a URL, never
logged). IMVDb allows 1000 requests a minute per key: a client spaces its
requests with a token bucket, waits as long as a 429's ``Retry-After`` says
(up to ``MAX_WAIT``), and tries again after a 5xx or a network error with a
growing pause. What still fails is a ``WorkError`` in plain words: transient
ones (IMVDb busy or down) are retried by the job system, a refused key or a
missing artist are not.
"""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from jobs.child import Reporter, WorkError

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Half the documented 1000 a minute: two jobs of a worker may ask at once.
RATE = 1000 / 60 / 2  # requests per second
BURST = 5
TRIES = 4  # per request, for 5xx and network errors
BACKOFF = 0.5  # seconds before the second try, doubled for each further one
RATE_LIMITED_TRIES = 3  # 429s in a row before the job is retried later instead
MAX_WAIT = 60.0  # the longest Retry-After honoured in place (seconds)


class ImvdbError(WorkError):
    """A request IMVDb did not answer as asked."""


class TokenBucket:
    """At most ``rate`` requests a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            wait = (1 - self.tokens) / self.rate if self.tokens < 1 else 0.0
            self.tokens -= 1
        if wait:
            time.sleep(wait)


def retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class Client:
    def __init__(self, key: str, url: str, bucket: TokenBucket | None = None) -> None:
        if not key:
            raise ImvdbError("Set an IMVDb API key on the Settings page first", "not_configured")
        self.base = url.rstrip("/")
        self.bucket = bucket or TokenBucket(RATE, BURST)
        self.http = httpx.Client(
            headers={"IMVDB-APP-KEY": key, "Accept": "application/json"},
            timeout=TIMEOUT,
            follow_redirects=False,  # the key goes to the address staff set, nowhere else
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """The JSON object IMVDb answers to ``GET path``.

        1. Each try waits for a token of the bucket.
        2. 429: wait ``Retry-After`` (at most ``MAX_WAIT``) and ask again, up
           to ``RATE_LIMITED_TRIES`` times; a longer wait is the job's retry.
        3. 5xx, a timeout or a refused connection: ask again after
           ``BACKOFF``, doubled each time, ``TRIES`` in all.
        4. 401/403 (the key), 404 and other answers fail at once.
        """
        url = self.base + path
        problem, tries, limited = "", 0, 0
        while tries < TRIES:
            self.bucket.take()
            try:
                response = self.http.get(url, params=params)
            except httpx.HTTPError as e:
                problem = f"IMVDb did not answer ({type(e).__name__})"
            else:
                status = response.status_code
                if status == 429:
                    limited += 1
                    wait = retry_after(response.headers.get("Retry-After"))
                    if limited >= RATE_LIMITED_TRIES or wait > MAX_WAIT:
                        raise ImvdbError(
                            f"IMVDb's rate limit was reached (it asks to wait {wait:.0f} s)",
                            "rate_limited",
                            transient=True,
                        )
                    time.sleep(wait)
                    continue
                if status < 300:
                    return _json(response)
                if status in (401, 403):
                    raise ImvdbError(
                        f"IMVDb refused the API key (HTTP {status}): check it on the Settings page",
                        "imvdb_key",
                    )
                if status == 404:
                    raise ImvdbError(f"IMVDb has nothing at {path} (HTTP 404)", "not_found")
                if status < 500:
                    raise ImvdbError(f"IMVDb answered HTTP {status} to {path}", "imvdb")
                problem = f"IMVDb answered HTTP {status}"
            tries += 1
            if tries < TRIES:
                time.sleep(BACKOFF * 2 ** (tries - 1))
        raise ImvdbError(f"{problem} ({TRIES} tries)", "imvdb_unavailable", transient=True)

    def search_artists(self, name: str) -> list[dict[str, Any]]:
        return _list(self.get("/search/entities", q=name).get("results"))

    def artist_videos(self, entity_id: int) -> list[dict[str, Any]]:
        found = self.get(f"/entity/{int(entity_id)}", include="artist_videos")
        return _list((found.get("artist_videos") or {}).get("videos"))

    def video(self, video_id: int) -> dict[str, Any]:
        return self.get(f"/video/{int(video_id)}", include="sources")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ImvdbError("IMVDb's answer was not the JSON object its API sends", "imvdb")
    return found


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value or [] if isinstance(item, dict) and item.get("id")]


def matching(results: list[dict[str, Any]], slugs: list[str]) -> dict[str, Any] | None:
    """The first result that is the artist: its slug (or its name, written as
    a slug) is one of ``slugs``. IMVDb ranks by its own measure, so the top
    result is often someone else."""
    for result in results:
        name = "-".join(str(result.get("name") or "").casefold().split())
        if str(result.get("slug") or "").casefold() in slugs or (name and name in slugs):
            return result
    return None


def links(video: dict[str, Any], templates: dict[str, str]) -> list[str]:
    """The video's sources as URLs (``templates``: ``{"youtube": "…{id}…"}``),
    the primary one first, then in IMVDb's order; sources with no template are left out."""
    sources = [s for s in video.get("sources") or [] if isinstance(s, dict)]
    sources.sort(key=lambda s: not s.get("is_primary"))
    found = []
    for source in sources:
        template = templates.get(str(source.get("source")))
        data = str(source.get("source_data") or "")
        if template and data:
            url = template.replace("{id}", quote(data, safe=""))
            if url not in found:
                found.append(url)
    return found


def _year(value: Any) -> int | None:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if 1800 < year < 3000 else None


def discover(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """A job's child: the artist's videos on IMVDb that have a source MVidarr
    can fetch.

    1. The entity is ``params["imvdb_id"]``, else the first search result
       matching ``params["slugs"]`` (none: nothing found, not a failure).
    2. The entity's videos are listed; those in ``params["seen"]`` (handled by
       an earlier check) are skipped without asking for their details.
    3. Each other video's details give its sources, year and directors.
    """
    with Client(params["key"], params["url"]) as client:
        entity_id, searched = params.get("imvdb_id"), False
        if not entity_id:
            reporter.progress(stage="searching", force=True)
            match = matching(client.search_artists(params["name"]), params["slugs"])
            if match is None:
                return {"imvdb_id": None, "total": 0, "videos": []}
            entity_id, searched = int(match["id"]), True
        reporter.progress(stage="listing", force=True)
        listed = client.artist_videos(entity_id)
        seen = set(params.get("seen") or [])
        todo = [v for v in listed if int(v["id"]) not in seen]
        found = []
        for done, item in enumerate(todo):
            reporter.progress(
                stage="fetching",
                percent=100.0 * done / len(todo),
                detail=f"{done} of {len(todo)} videos",
            )
            video = client.video(int(item["id"]))
            directors = [
                str(d.get("entity_name") or "").strip() for d in video.get("directors") or []
            ]
            found.append(
                {
                    "imvdb_id": int(item["id"]),
                    "title": str(video.get("song_title") or item.get("song_title") or "").strip(),
                    "year": _year(video.get("year") or item.get("year")),
                    "director": ", ".join(d for d in directors if d),
                    "links": links(video, params["links"]),
                }
            )
    return {"imvdb_id": entity_id, "searched": searched, "total": len(listed), "videos": found}
