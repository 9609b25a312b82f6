"""A local stand-in for IMVDb's API (v1), answering in its documented shape:

- ``GET /search/entities?q=`` -> ``{"total_results", …, "results": [{"id",
  "name": null, "slug", "url", …}]}``, every artist one of whose words is in
  ``q``, by id (so a namesake added first comes first, as on IMVDb);
- ``GET /entity/{id}?include=artist_videos`` -> the entity with
  ``artist_videos: {"total_videos", "videos": [{"id", "song_title", "year", …}]}``;
- ``GET /video/{id}?include=sources`` -> the video with ``directors`` and,
  when asked, ``sources: [{"source", "source_slug", "source_data", "is_primary"}]``.

A request without the right ``IMVDB-APP-KEY`` gets 401. ``trouble`` holds
answers given first, one per request (a 429 with ``Retry-After``, a 500),
and every call is recorded. ``links(media)`` is the
``MVIDARR_IMVDB_SOURCE_LINKS`` that sends YouTube and Vimeo ids to the local
media server, so that found videos really download.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tests.integrationkit import Answer, Call, FakeServer

KEY = "imvdb-app-key-0123456789abcdef"
SITE = "https://imvdb.com"
_ids = itertools.count(121779770452)


@dataclass
class FakeVideo:
    title: str
    year: int | None = None
    directors: tuple[str, ...] = ()
    # (source, source_data), the first one primary
    sources: tuple[tuple[str, str | int], ...] = ()
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class FakeArtist:
    id: int
    name: str
    slug: str
    videos: list[FakeVideo]


def slug_of(name: str) -> str:
    return "-".join(name.casefold().split())


class FakeImvdb(FakeServer):
    def __init__(self, key: str = KEY) -> None:
        super().__init__()
        self.key = key
        self.artists: dict[int, FakeArtist] = {}
        self.trouble: list[Answer] = []

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1"

    def add_artist(self, name: str, videos=(), slug: str = "") -> FakeArtist:
        artist = FakeArtist(next(_ids), name, slug or slug_of(name), list(videos))
        self.artists[artist.id] = artist
        return artist

    def answer(self, call: Call) -> Answer:
        if call.headers.get("IMVDB-APP-KEY") != self.key:
            return Answer(401, {"error": "Invalid API key"})
        if self.trouble:
            return self.trouble.pop(0)
        path = call.path.removeprefix("/api/v1")
        include = (call.query.get("include") or [""])[0].split(",")
        if path == "/search/entities":
            return Answer(200, self._search((call.query.get("q") or [""])[0]))
        kind, _, pk = path.strip("/").partition("/")
        if kind == "entity" and pk.isdigit() and (artist := self.artists.get(int(pk))):
            return Answer(200, self._entity(artist, "artist_videos" in include))
        found = self._video(int(pk)) if kind == "video" and pk.isdigit() else None
        if found:
            return Answer(200, _video(*found, full=True, sources="sources" in include))
        return Answer(404, {"error": "Not found"})

    def requests(self, prefix: str) -> list[Call]:
        """The calls to the API paths starting with ``prefix`` (e.g. "/video/")."""
        return [c for c in self.calls if c.path.removeprefix("/api/v1").startswith(prefix)]

    def _search(self, q: str) -> dict:
        words = set(q.casefold().split())
        found = [a for a in self.artists.values() if words & set(a.slug.split("-"))]
        results = [_entity_head(a) for a in sorted(found, key=lambda a: a.id)]
        return {
            "total_results": len(results),
            "current_page": 1,
            "per_page": 25,
            "total_pages": 1,
            "results": results,
        }

    def _entity(self, artist: FakeArtist, with_videos: bool) -> dict:
        entity = _entity_head(artist)
        if with_videos:
            listed = [_video(artist, v) for v in artist.videos]
            entity["artist_videos"] = {"total_videos": len(listed), "videos": listed}
        return entity

    def _video(self, pk: int) -> tuple[FakeArtist, FakeVideo] | None:
        for artist in self.artists.values():
            for video in artist.videos:
                if video.id == pk:
                    return artist, video
        return None


def _entity_head(artist: FakeArtist) -> dict:
    return {
        "id": artist.id,
        "name": None,  # as IMVDb often sends it: the slug names the artist
        "slug": artist.slug,
        "url": f"{SITE}/n/{artist.slug}",
        "discogs_id": None,
        "byline": None,
        "bio": None,
        "image": f"{SITE}/",
        "artist_video_count": len(artist.videos),
        "featured_video_count": 0,
    }


def _video(artist: FakeArtist, video: FakeVideo, full: bool = False, sources: bool = False) -> dict:
    song = slug_of(video.title)
    found = {
        "id": video.id,
        "production_status": "r",
        "song_title": video.title,
        "song_slug": song,
        "url": f"{SITE}/video/{artist.slug}/{song}",
        "multiple_versions": False,
        "version_name": None,
        "version_number": 1,
        "is_imvdb_pick": False,
        "aspect_ratio": None,
        "year": video.year,
        "verified_credits": False,
        "artists": [{"name": artist.name, "slug": artist.slug, "url": f"{SITE}/n/{artist.slug}"}],
        "image": {"o": f"{SITE}/images/{video.id}.jpg"},
    }
    if not full:  # a video in an artist's list
        return found
    found["directors"] = [
        {
            "position_name": "Director",
            "position_code": "dir",
            "entity_name": name,
            "entity_slug": slug_of(name),
            "entity_id": 31567 + n,
            "position_notes": None,
            "position_id": 31567 + n,
            "entity_url": f"{SITE}/n/{slug_of(name)}",
        }
        for n, name in enumerate(video.directors)
    ]
    if sources:
        found["sources"] = [
            {"source": s, "source_slug": s, "source_data": data, "is_primary": n == 0}
            for n, (s, data) in enumerate(video.sources)
        ]
    return found


def links(media) -> str:
    """``MVIDARR_IMVDB_SOURCE_LINKS`` sending IMVDb's YouTube and Vimeo ids to
    the local media server: each id is a clip's ``key``, so every video has a
    URL of its own, and the server counts its requests."""
    clip = media.url("media/clip.mp4")
    return f"youtube={clip}?key=yt-{{id}},vimeo={clip}?key=vimeo-{{id}}"
