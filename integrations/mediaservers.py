"""Telling Jellyfin and Plex about new files, so that they show up without
waiting for a scheduled scan: the only module that talks to media servers.

- Jellyfin: ``POST /Library/Media/Updated`` with the new files' paths, one
  request for a whole batch (``POST /Library/Refresh``, a full scan, for a
  very large one); ``GET /System/Info`` tests the connection. The API key goes
  in ``Authorization: MediaBrowser Token="…"``, the one form every version
  reads (12.0 ignores ``X-Emby-Token`` unless told otherwise).
- Plex: ``GET /library/sections`` (JSON) finds the sections whose folders hold
  the files; each gets one ``GET /library/sections/{key}/refresh?path=…`` with
  the folder that holds all of its new files. The token goes in ``X-Plex-Token``.

Paths are the library's as MVidarr sees it: the servers must see it at the
same path. The addresses are staff configuration, not content, so the URL
rule for content does not apply to them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

import requests
from django.conf import settings

from mvidarr import config

TIMEOUT = (5, 30)  # seconds to connect, to read
# More new files than this in one refresh: Jellyfin scans everything instead.
MAX_PATHS = 500
TITLES = {"jellyfin": "Jellyfin", "plex": "Plex"}


class ServerError(Exception):
    """A media server that could not be told; ``transient`` ones may be retried."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Server:
    name: str  # "jellyfin" or "plex"
    url: str
    token: str

    @property
    def title(self) -> str:
        return TITLES[self.name]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        if self.name == "jellyfin":
            headers = {"Authorization": f'MediaBrowser Token="{self.token}"'}
        else:
            headers = {"X-Plex-Token": self.token, "Accept": "application/json"}
        try:
            response = requests.request(
                method, self.url.rstrip("/") + path, headers=headers, timeout=TIMEOUT, **kwargs
            )
        except requests.RequestException as e:
            raise ServerError(f"{self.title} did not answer at {self.url}: {e}", True) from None
        status = response.status_code
        if status in (401, 403):
            raise ServerError(f"{self.title} refused the token (HTTP {status})", False)
        if status >= 400:
            transient = status >= 500 or status == 429
            raise ServerError(f"{self.title} answered HTTP {status} to {path}", transient)
        return response

    def json(self, path: str) -> dict:
        try:
            found = self.request("GET", path).json()
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise ServerError(f"{self.url} does not answer like {self.title}", False)
        return found


def server(name: str) -> Server | None:
    """The server as configured, or None without both a URL and a token."""
    prefix = name.upper()
    url, token = config.get(f"{prefix}_URL"), config.get(f"{prefix}_TOKEN")
    return Server(name, url, token) if url and token else None


def configured() -> list[Server]:
    return [found for name in TITLES if (found := server(name))]


def check(server: Server) -> str:
    """What the server says about itself; ``ServerError`` if it is not usable."""
    if server.name == "jellyfin":
        info = server.json("/System/Info")
        return f"Jellyfin {info.get('Version', '?')} ({info.get('ServerName', 'unnamed')})"
    library = str(settings.LIBRARY_DIR)
    holding = [title for title, _key, _folders in _plex_sections(server, [library])]
    if not holding:
        raise ServerError(_no_section(library), False)
    return f"Plex: {', '.join(holding)} holds the library"


def refresh(server: Server, paths: list[str]) -> str:
    """Tell the server these files are new; returns what was done."""
    if server.name == "jellyfin":
        if len(paths) > MAX_PATHS:
            server.request("POST", "/Library/Refresh")
            return f"Jellyfin: full scan for {len(paths)} new files"
        updates = [{"Path": path, "UpdateType": "Created"} for path in paths]
        server.request("POST", "/Library/Media/Updated", json={"Updates": updates})
        return f"Jellyfin: told of {len(paths)} new file(s)"
    done = []
    for title, key, held in _plex_sections(server, paths):
        folder = os.path.commonpath([str(PurePosixPath(path).parent) for path in held])
        endpoint = f"/library/sections/{quote(key, safe='')}/refresh"
        server.request("GET", endpoint, params={"path": folder})
        done.append(f"{title} ({folder})")
    if not done:
        raise ServerError(_no_section(paths[0]), False)
    return f"Plex: refreshed {', '.join(done)}"


def _plex_sections(server: Server, paths: list[str]) -> list[tuple[str, str, list[str]]]:
    """``(title, key, paths it holds)`` for each Plex section holding some of ``paths``."""
    container = server.json("/library/sections").get("MediaContainer") or {}
    found = []
    for section in container.get("Directory") or []:
        locations = section.get("Location") or []
        folders = [
            PurePosixPath(str(loc.get("path"))) for loc in locations if isinstance(loc, dict)
        ]
        held = [p for p in paths if any(PurePosixPath(p).is_relative_to(f) for f in folders)]
        if held and section.get("key") is not None:
            found.append((str(section.get("title", "?")), str(section["key"]), held))
    return found


def _no_section(path: str) -> str:
    return (
        f"No Plex library folder holds {path}: add the library folder to a Plex library "
        "(Plex must see it at the same path as MVidarr)"
    )
