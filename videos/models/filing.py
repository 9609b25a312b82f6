"""Filing a video's file in the library: the names it may take there (by
``MVIDARR_LIBRARY_TEMPLATE``), moving a download in, the NFO beside it, and
finding it again without ever leaving the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from mvidarr import config
from videos import layout, media, nfo
from videos.models.text import safe_name

if TYPE_CHECKING:
    from videos.models.video import Video

# The technical metadata a downloaded file gets from its probe, beside duration.
TECHNICAL = ("width", "height", "video_codec", "audio_codec", "container")
MAX_NAME_TRIES = 20


class LibraryFiling:
    """Mixed into ``Video``: the methods that name, place and find its file."""

    def library_candidates(self: Video, ext: str) -> Iterator[Path]:
        """Names for the file under the library, by ``MVIDARR_LIBRARY_TEMPLATE``
        (``videos.layout``); never user-chosen.

        The ``{id}`` is the source's; when another video already owns that
        name (two sources may reuse an id) -- with any extension, since the
        NFO beside it is named after it -- our own id is added, then a
        counter (after the name when the template has no ``{id}``).
        """
        template = config.get("LIBRARY_TEMPLATE")
        tag = safe_name(self.source_id, str(self.pk), limit=40)
        values = {
            "artist": safe_name(self.artist_name, "Unknown Artist"),
            "title": safe_name(self.title, f"Video {self.pk}"),
            "year": str(self.year or "Unknown Year"),
            "album": safe_name(self.album, "Unknown Album"),
            "genre": safe_name(self.genre, "Unknown Genre"),
            "ext": safe_name(ext, "mp4", limit=8).lower(),
        }
        others = type(self).objects.exclude(pk=self.pk)
        for n in range(MAX_NAME_TRIES):
            mark = "" if n == 0 else f"-{self.pk}" if n == 1 else f"-{self.pk}-{n}"
            if "{id}" in template:
                name = layout.render(template, {**values, "id": tag + mark})
            else:
                name = layout.render(template, {**values, "id": ""})
                if mark:
                    name = name.with_stem(f"{name.stem} [{mark[1:]}]")
            path = (settings.LIBRARY_DIR / name).resolve()
            if not path.is_relative_to(settings.LIBRARY_DIR):
                raise ValueError(f"Refusing a path outside the library: {path}")
            stem = str(path.relative_to(settings.LIBRARY_DIR).with_suffix(""))
            if not others.filter(file__startswith=f"{stem}.").exists():
                yield path

    def library_path(self: Video, ext: str) -> Path:
        """The name this video's file would get now (free in the database and on disk)."""
        for path in self.library_candidates(ext):
            if not path.exists() and not path.with_suffix(".nfo").exists():
                return path
        raise ValueError("No free file name in the library")

    def file_into_library(self: Video, source: Path, ext: str) -> Path:
        """Move a finished download into the library under a free name, never
        replacing a file; its NFO name is reserved with it."""
        return media.place_exclusively(source, self.library_candidates(ext))

    def write_nfo(self: Video, path: Path) -> None:
        """The NFO beside the file, from what the library knows of the video now."""
        info = {"album": self.album, "release_year": self.year, "genre": self.genre}
        info |= {"director": self.director, "thumbnail": self.thumbnail_url}
        info["description"] = (self.metadata or {}).get("description")
        found = {"duration": self.duration, **{f: getattr(self, f) for f in TECHNICAL}}
        nfo.write_nfo(path, title=self.title, artist=self.artist_name, media=found, info=info)

    def library_file(self: Video) -> Path | None:
        """The video's file, only if it is a file inside the library (a ``file``
        value such as ``../../etc/passwd`` or a symlink out of it gives ``None``)."""
        if not self.file:
            return None
        path = (settings.LIBRARY_DIR / self.file).resolve()
        if not path.is_relative_to(settings.LIBRARY_DIR) or not path.is_file():
            return None
        return path
