"""The library folder: the files of one video, and removing them without
ever touching anything outside the folder."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def thumb_beside(path: Path) -> Path:
    """The thumbnail media servers look for beside a video."""
    return path.with_name(f"{path.stem}-thumb.jpg")


def companions(path: Path) -> list[Path]:
    """A video file and the files named after it: its NFO and its thumbnail."""
    return [path, path.with_suffix(".nfo"), thumb_beside(path)]


def remove_files(name: str) -> list[Path]:
    """Remove the library file ``name`` (relative to the library) and its
    companions; returns what was removed.

    1. ``name`` is joined to the library and normalised without following
       links: a name that leads out (``..``, an absolute path) removes nothing.
    2. Its folder is resolved (symlinks too) and must still be inside the
       library: a folder that is a link to elsewhere removes nothing.
    3. Each file is unlinked in that folder, so a file that is itself a
       symlink is removed as a link and its target is left alone.
    4. The folder goes too when that leaves it empty (never the library itself).
    """
    root = settings.LIBRARY_DIR
    try:
        path = Path(os.path.normpath(root / name)) if name else root
        folder = path.parent.resolve()
    except (OSError, ValueError):  # a NUL byte, an unreadable folder
        return []
    if path == root or not path.is_relative_to(root) or not folder.is_relative_to(root):
        return []
    removed = []
    for file in companions(folder / path.name):
        try:
            file.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:  # a folder under that name, no permission
            logger.warning("Could not remove %s from the library: %s", file, e)
            continue
        removed.append(file)
    if removed and folder != root:
        with contextlib.suppress(OSError):  # not empty: the artist's other videos
            folder.rmdir()
    return removed


def remove_thumbnails(video_id: int) -> None:
    """The thumbnails made for the pages (``THUMBS_DIR/<id>/``): a deleted
    video's go with it, whether or not its library file stays."""
    shutil.rmtree(settings.THUMBS_DIR / str(int(video_id)), ignore_errors=True)
