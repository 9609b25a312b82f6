"""Importing what people already have: the ``import_library`` job kind.

The child (``videos.scan``) walks the folder and describes each video file;
here, in the worker, each batch is filed: a file already known (the same
library path, or the same size and quick hash in the owner's library) is
skipped, anything else becomes a downloaded video. A file outside the library
is copied in (a hard link where it can be) or, with ``move``, moved in, under
the library's naming rule; a file already inside it stays where it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import Job
from videos import media, probing
from videos.models import Artist, Video, name_key
from videos.titles import parse_title


def start_import(owner, path: Path, move: bool = False) -> tuple[Job, bool]:
    """Queue an import of ``path`` for ``owner`` (one at a time per folder)."""
    path = path.resolve()
    digest = hashlib.sha256(f"{owner.pk}:{path}".encode()).hexdigest()[:32]
    return Job.submit(
        ImportLibrary.name,
        owner,
        subject=f"import:{digest}",
        params={"path": str(path), "move": move},
        label=f"Import {path}"[:300],
    )


def _known(owner_id: int, batch: list[dict[str, Any]]) -> tuple[set[str], set[tuple[int, str]]]:
    """Library paths (anyone's) and (size, hash) pairs (the owner's) already
    in the database for this batch: two queries, whatever its size."""
    inside = [_library_name(Path(r["path"])) for r in batch]
    paths = set(
        Video.objects.filter(file__in=[p for p in inside if p]).values_list("file", flat=True)
    )
    pairs = set(
        Video.objects.filter(owner_id=owner_id, content_hash__in=[r["hash"] for r in batch])
        .filter(~Q(file=""))
        .values_list("file_size", "content_hash")
    )
    return paths, pairs


def _library_name(path: Path) -> str:
    """``path`` relative to the library root, or "" when it lies outside."""
    return (
        str(path.relative_to(settings.LIBRARY_DIR))
        if path.is_relative_to(settings.LIBRARY_DIR)
        else ""
    )


def _names(record: dict[str, Any]) -> tuple[str, str]:
    """Artist and title: from the NFO beside the file, else from its name."""
    path, nfo = Path(record["path"]), record["nfo"]
    parsed = parse_title(path.stem)
    return nfo.get("artist") or parsed.artist, nfo.get("title") or parsed.title or path.stem


def _new_video(job: Job, record: dict[str, Any], artists: dict[str, Artist]) -> Video:
    path, nfo = Path(record["path"]), record["nfo"]
    artist, title = _names(record)
    year = nfo.get("year", "")[:4]
    return Video(
        owner_id=job.owner_id,
        url=path.as_uri()[:2048],
        title=title[:300],
        artist=artists.get(name_key(artist)) if artist else None,
        album=nfo.get("album", "")[:200],
        genre=nfo.get("genre", "")[:100],
        director=nfo.get("director", "")[:200],
        year=int(year) if year.isdigit() and 1800 < int(year) < 2200 else None,
        duration=record["media"].get("duration"),
        **{field: record["media"].get(field) or "" for field in ("video_codec", "audio_codec")},
        width=record["media"].get("width"),
        height=record["media"].get("height"),
        container=record["media"].get("container") or "",
        content_hash=record["hash"],
        metadata={"imported_from": str(path), "import_job": str(job.pk)},
    )


class ImportLibrary(Kind):
    name = "import_library"
    queue = "default"
    time_limit = 12 * 3600
    child = "videos.scan:scan"
    preload = ("videos.scan", *probing.PROBE_PRELOAD)

    def prepare(self, job: Job) -> dict[str, Any]:
        """What the library already holds that the scan may meet (the
        library files under the folder, the owner's sizes and hashes), so
        that it probes only what is new; ``received`` still decides."""
        root = Path(job.params["path"])
        files = Video.objects.exclude(file="")
        inside = _library_name(root)
        if root == settings.LIBRARY_DIR:
            paths = files.values_list("file", flat=True)
        elif inside:
            paths = files.filter(file__startswith=f"{inside}/").values_list("file", flat=True)
        else:
            paths = []
        pairs = files.filter(owner_id=job.owner_id).values_list("file_size", "content_hash")
        return {
            **job.params,
            "known_paths": [str(settings.LIBRARY_DIR / name) for name in paths],
            "known_pairs": [list(pair) for pair in pairs if pair[1]],
        }

    def received(self, job: Job, batch: list[dict[str, Any]]) -> None:
        if not job.still_running():  # cancelled: file nothing more
            return
        paths, pairs = _known(job.owner_id, batch)
        new = [
            r
            for r in batch
            if not r.get("known")
            and _library_name(Path(r["path"])) not in paths
            and (r["size"], r["hash"]) not in pairs
        ]
        # The batch's artists in two queries, the missing ones created.
        artists = Artist.objects.for_names(job.owner_id, [_names(r)[0] for r in new])
        imported = 0
        for record in new:
            path = Path(record["path"])
            try:
                imported += self._file(job, record, artists)
            except WorkError as e:
                job.log("warning", f"Not imported: {path.name}: {e}"[:1000])
                if e.code == "disk_full":
                    raise
        job.log("info", f"Imported {imported} of {len(batch)} file(s) in this batch")

    def _file(self, job: Job, record: dict[str, Any], artists: dict[str, Artist]) -> int:
        """One new file into the library; 1 when it was imported, 0 when it
        turned out to be known after all."""
        source = Path(record["path"])
        video = _new_video(job, record, artists)
        try:
            with transaction.atomic():
                video.save()
        except IntegrityError:  # this very path was imported before, since moved
            return 0
        try:
            if _library_name(source):
                target = source
            else:
                ext = source.suffix[1:].lower()
                target = media.place_exclusively(
                    source, video.library_candidates(ext), keep_source=not job.params["move"]
                )
                video.write_nfo(target.with_suffix(".nfo"))
                if job.params["move"]:  # its old NFO is in the new one
                    source.with_suffix(".nfo").unlink(missing_ok=True)
        except BaseException:
            video.delete()
            raise
        video.mark_downloaded(target, record["size"], record["media"])
        return 1

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        imported = Video.objects.filter(metadata__import_job=str(job.pk)).count()
        known = stored["files"] - stored["not_videos"] - imported
        return {**stored, "imported": imported, "known": known}
