"""A video's thumbnails for the pages: where their files are kept, the
sizes made (``videos.thumbnails`` makes them) and their URLs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import F
from django.urls import reverse

if TYPE_CHECKING:
    from videos.models.video import Video


class Thumbnails:
    """Mixed into ``Video``: its thumbnails (``thumbnail_sizes``, ``thumbnails_version``)."""

    def thumbnail_file(self: Video, key: str | int) -> Path:
        """Where the thumbnail of size ``key`` is kept (``videos.thumbnails``)."""
        return settings.THUMBS_DIR / str(self.pk) / f"{int(key)}.jpg"

    @property
    def has_picture_source(self: Video) -> bool:
        """Whether thumbnails can be made: from the source's own, or from a
        frame of a file with a picture."""
        return bool(self.thumbnail_url or (self.file and self.video_codec))

    def record_thumbnails(self: Video, sizes: dict[str, int]) -> None:
        """New thumbnails are in place: their sizes, and new URLs."""
        type(self).objects.filter(pk=self.pk).update(
            thumbnail_sizes=sizes, thumbnails_version=F("thumbnails_version") + 1
        )
        self.refresh_from_db(fields=["thumbnail_sizes", "thumbnails_version"])

    @property
    def thumbnails(self: Video) -> dict[str, str]:
        """``{"320": url, …}`` for the sizes that exist, smallest first."""
        return {
            key: reverse("video-thumbnail", args=[self.pk, int(key)])
            + f"?v={self.thumbnails_version}"
            for key in sorted(self.thumbnail_sizes, key=int)
        }

    @property
    def thumbnail_srcset(self: Video) -> str:
        """The thumbnails as an ``<img srcset>``: each file once, by its real width."""
        seen: dict[int, str] = {}
        for key, url in self.thumbnails.items():
            seen.setdefault(self.thumbnail_sizes[key], url)
        return ", ".join(f"{url} {width}w" for width, url in sorted(seen.items()))
