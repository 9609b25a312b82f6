"""What an import finds on disk. Runs in the import job's child process: no
Django models here, only files, probes (``videos.probing``) and NFOs.

The child walks the folder, probes each video file, hashes it and reads the
NFO beside it, and hands the supervisor batches of what it found; the
``import_library`` kind (``videos.importing``) files them with the database.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from jobs.child import Reporter, WorkError
from videos import probing

BATCH = 50
PROBES = max(2, os.cpu_count() or 1)  # files described at once
# The quick hash reads this much from each end of a file (see ``quick_hash``).
HASH_CHUNK = 4 * 1024 * 1024
MAX_NFO_BYTES = 1024 * 1024
NFO_FIELDS = ("title", "artist", "album", "year", "genre", "director")


def quick_hash(path: Path, size: int) -> str:
    """SHA-256 of the size, the first and the last 4 MiB: the same file found
    again (copied, moved, renamed) hashes the same, and a library of large
    videos is not read in full."""
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        digest.update(f.read(HASH_CHUNK))
        if size > 2 * HASH_CHUNK:
            f.seek(size - HASH_CHUNK)
            digest.update(f.read(HASH_CHUNK))
        elif size > HASH_CHUNK:
            digest.update(f.read())
    return digest.hexdigest()


def find_videos(root: Path) -> list[Path]:
    """Video files under ``root``, in name order. Symbolic links are not
    followed (a link could lead out of the folder or round in a loop), and
    hidden names (``.incoming-…`` copies in progress) are left alone."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            ext = path.suffix[1:].lower()
            if name.startswith(".") or ext not in probing.VIDEO_EXTENSIONS or path.is_symlink():
                continue
            found.append(path)
    return found


def read_nfo(path: Path) -> dict[str, str]:
    """The music-video fields of the NFO beside a video ({} when there is none
    or it is not XML); a huge file is not read."""
    nfo = path.with_suffix(".nfo")
    try:
        if nfo.is_symlink() or nfo.stat().st_size > MAX_NFO_BYTES:
            return {}
        root = ET.parse(nfo).getroot()
    except (OSError, ET.ParseError):
        return {}
    fields = {}
    for tag in NFO_FIELDS:
        element = root.find(tag)
        if element is not None and element.text and element.text.strip():
            fields[tag] = " ".join(element.text.split())[:300]
    return fields


class Known:
    """What the library already holds, as the job found it before the scan
    (``ImportLibrary.prepare``): absolute paths, and (size, quick hash)
    pairs. A file it names is neither probed nor read for its NFO, so a
    second import of the same folder costs a hash per file."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.paths = set(params.get("known_paths", ()))
        self.pairs = {tuple(pair) for pair in params.get("known_pairs", ())}

    def __contains__(self, record: dict[str, Any]) -> bool:
        return record["path"] in self.paths or (record["size"], record["hash"]) in self.pairs


def describe(path: Path, known: Known | None = None) -> dict[str, Any]:
    """One video file: its size, quick hash, what its probe finds and its NFO
    (``known: True`` and no probe for a file the library holds). Raises
    ``WorkError`` for a file that is not a video."""
    size = path.stat().st_size
    record = {"path": str(path), "size": size, "hash": quick_hash(path, size)}
    if known is not None and record in known:
        return {**record, "known": True}
    found = probing.confirm_media(path, path.suffix[1:])
    return {**record, "media": found, "nfo": read_nfo(path)}


def _describe(path: Path, known: Known) -> dict[str, Any] | Exception:
    try:
        return describe(path, known)
    except (WorkError, OSError) as e:
        return e


def scan(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """1. List the video files (the total is known before the first one).
    2. Describe them, as many at once as there are cores (hashing and
       probing), reporting "n of total" and the file, and emit them in
       batches, in order, for the worker to file.
    3. A file that is not a video, or cannot be read, is logged and skipped.
    """
    root = Path(params["path"])
    if not root.is_dir():
        raise WorkError(f"Not a folder: {root}", "not_found")
    reporter.progress(stage="scanning", force=True)
    files, known = find_videos(root), Known(params)
    total, skipped, probed, batch = len(files), 0, 0, []
    with ThreadPoolExecutor(max_workers=PROBES) as pool:
        described = pool.map(_describe, files, [known] * total)
        for done, (path, found) in enumerate(zip(files, described, strict=True), 1):
            reporter.progress(
                percent=100.0 * done / total,
                stage="importing",
                detail=f"{done:,} of {total:,} · {path.name}"[:200],
            )
            if isinstance(found, Exception):
                skipped += 1
                reporter.log("warning", f"Skipped {path.relative_to(root)}: {found}"[:1000])
                continue
            probed += not found.get("known")
            batch.append(found)
            if len(batch) >= BATCH:
                reporter.emit(batch)
                batch = []
    if batch:
        reporter.emit(batch)
    reporter.progress(
        percent=100.0, stage="importing", detail=f"{total:,} of {total:,}", force=True
    )
    return {"files": total, "not_videos": skipped, "probed": probed}
