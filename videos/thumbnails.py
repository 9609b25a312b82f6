"""Thumbnails of the library's videos: the job kinds that make them and where
their files go. The picture work runs in ``videos.images``, in the job's child
process; what is here runs in the worker, with the database.

Each video's thumbnails are kept twice:

* ``THUMBS_DIR/<video id>/<key>.jpg`` (keys 320, 640, 1280), which the pages
  and the API show (``/videos/<id>/thumbnail/<key>.jpg``);
* ``<video file name>-thumb.jpg`` beside the video in the library, the
  largest one, for Kodi, Jellyfin and Plex.

Making them never leaves a partial file, and a new set replaces the old one
file by file, atomically:

1. The child writes the JPEGs into the job's work directory. A failure or a
   cancel there leaves nothing elsewhere (the supervisor removes the directory).
2. ``store()`` puts each file beside its place under a temporary name (a copy
   when the library is on another disk: the slow part, outside any transaction).
3. ``succeeded()``, in the transaction that marks the job done, records the
   sizes and renames each temporary file over the old one (``os.replace``:
   a reader sees the old file or the new, never half of one). A job cancelled
   in between removes its temporary files instead (``discard()``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import ChildSpec, Job
from videos import media
from videos.models import Video
from videos.netguard import policy_params

# Where in the video the frame is taken, when the source has no picture of its own.
FRAME_AT = 0.10


def _video(job: Job) -> Video:
    video = Video.objects.filter(pk=job.params["video_id"]).first()
    if video is None:
        raise WorkError("The video was deleted", "not_found")
    return video


class MakeThumbnails(Kind):
    """The thumbnails of one video, from its source's picture or a frame."""

    name = "make_thumbnails"
    queue = "image_processing"
    time_limit = 300
    child = "videos.images:make_thumbnails"
    preload = ("videos.images",)
    busy_stages = frozenset({"extracting", "resizing"})

    def prepare(self, job: Job) -> dict[str, Any]:
        video = _video(job)
        params = {"network_policy": policy_params(), "ffmpeg": media.ffmpeg_path()}
        if video.thumbnail_url:
            job.log("info", f"From the source's picture: {video.thumbnail_url[:300]}", defer=True)
            return {**params, "url": video.thumbnail_url}
        path = video.library_file()
        if path is None:
            raise WorkError(
                "This video has no picture at its source and no file to take a frame from",
                "no_picture",
            )
        at = round((video.duration or 0) * FRAME_AT, 3)
        job.log("info", f"From a frame at {at:g} s of the video", defer=True)
        return {**params, "file": str(path), "at": at}

    def store(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        sizes = {str(key): int(width) for key, width in result["sizes"].items()}
        video = _video(job)
        places = [(work_dir / f"{key}.jpg", video.thumbnail_file(key)) for key in sizes]
        if (path := video.library_file()) is not None:
            largest = max(sizes, key=int)
            places.append((work_dir / f"{largest}.jpg", media.thumb_beside(path)))
        return {"sizes": sizes, "from": result["from"], "staged": stage(places, job.pk.hex)}

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        video = _video(job)
        video.record_thumbnails(stored["sizes"])
        for temp, target in stored["staged"]:
            os.replace(temp, target)
            if Path(target).is_relative_to(settings.LIBRARY_DIR):  # the -thumb.jpg beside the file
                media.share(Path(target))
        return {"video_id": video.pk, "thumbnails": stored["sizes"], "from": stored["from"]}

    def discard(self, job: Job, stored: dict[str, Any]) -> None:
        unstage(stored["staged"])


def stage(places: list[tuple[Path, Path]], tag: str) -> list[tuple[str, str]]:
    """Each source file beside its target as ``.<name>.<tag>.part`` (a hard
    link, or a copy across disks); ``(temporary, target)`` pairs. On failure
    nothing staged is left."""
    staged: list[tuple[str, str]] = []
    try:
        for source, target in places:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{tag}.part")
            temp.unlink(missing_ok=True)  # from an attempt that died here
            staged.append((str(temp), str(target)))
            try:
                os.link(source, temp)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                shutil.copyfile(source, temp)
    except OSError as e:
        unstage(staged)
        if e.errno == errno.ENOSPC:
            raise WorkError("No space left on the disk for the thumbnails", "disk_full") from None
        raise
    return staged


def unstage(staged: list[tuple[str, str]]) -> None:
    for temp, _ in staged:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


class RegenerateThumbnails(Kind):
    """Created already waiting by ``start_regenerating``; never sent."""

    name = "regenerate_thumbnails"
    waits_for_children = True
    retryable = False  # its children are what can be retried

    def cancelled_many(self, jobs: list[Job]) -> None:
        pass


def start_regenerating(user, videos: list[Video]) -> Job:
    """One parent job with a child thumbnail job per video that has a picture
    to make them from (its source's, or its file's)."""
    able = [video for video in videos if video.has_picture_source]
    with transaction.atomic():
        parent = Job.start_parent(
            RegenerateThumbnails.name, user, label=f"Thumbnails of {len(videos)} videos"
        )
        specs = [ChildSpec(v.subject, {"video_id": v.pk}, v.label) for v in able]
        created = parent.add_children(MakeThumbnails.name, specs)
        parent.log(
            "info",
            f"Queued {len(created)} thumbnail job(s) for {len(videos)} selected video(s); "
            f"{len(videos) - len(able)} had no picture to make them from",
        )
    parent.wait_for_children()
    parent.refresh_from_db()
    return parent
