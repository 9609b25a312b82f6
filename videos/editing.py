"""Editing a video's metadata, and the job that brings its files along.

An edit is saved at once; when the video has a file, a ``rename_video`` job
then names the file after the new metadata (``MVIDARR_LIBRARY_TEMPLATE``),
inside the library and never over another file, moves the thumbnail beside
it and writes the NFO anew.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import ChildSpec, Job
from videos import media
from videos.models import Artist, Video
from videos.models.library import companions

EDITABLE = ("artist", "title", "year", "album", "genre", "director")


def apply_edit(video: Video, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (``artist`` is a name: the owner's artist of that
    name, made if new; "" for none) and save; whether anything changed."""
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    if "artist" in changes:
        changes["artist"] = Artist.objects.named(video.owner_id, changes["artist"])
    changed = [k for k, v in changes.items() if getattr(video, k) != v]
    if not changed:
        return False
    for field in changed:
        setattr(video, field, changes[field])
    video.save(update_fields=[*changed, "updated_at"])
    label, subject = video.label, video.subject
    transaction.on_commit(lambda: Job.objects.relabel(subject, label))
    return True


def edit_video(video: Video, changes: dict[str, Any], user) -> Job | None:
    """``apply_edit``; returns the rename job when the video's files must
    follow, else None."""
    with transaction.atomic():
        if not apply_edit(video, changes) or not video.file:
            return None
        job, _ = Job.submit(
            RenameVideo.name,
            user,
            subject=video.subject,
            params={"video_id": video.pk},
            label=f"Rename {video.label}"[:300],
        )
    return job


def edit_videos(videos: list[Video], changes: dict[str, Any], user) -> tuple[int, Job | None]:
    """The same ``changes`` for many videos (a bulk edit): how many changed,
    and one parent job renaming the files of those that have one."""
    with transaction.atomic():
        changed = [video for video in videos if apply_edit(video, changes)]
    count = len(changed)
    label = f"Rename {count} edited video{'s' if count != 1 else ''}"
    return count, rename_files(user, changed, label)


def _new_place(video: Video, current: Path) -> Path:
    """The first free name by the template: the current one if it is still
    first in line, else a new hard link to the file (the old name is kept
    until the database points at the new one)."""
    for candidate in video.library_candidates(current.suffix[1:]):
        if candidate == current:
            return current
        try:
            return media.place_exclusively(current, [candidate], keep_source=True)
        except WorkError as e:
            if e.code != "name_taken":
                raise
    raise WorkError("No free file name in the library for this video", "name_taken")


class RenameVideo(Kind):
    name = "rename_video"
    queue = "default"
    time_limit = 300

    def run_inline(self, job: Job) -> dict[str, Any]:
        """1. Find the name the template gives now; link the file there (or
           keep it when the name is unchanged).
        2. Write the NFO there from the video's metadata; link the thumbnail.
        3. Point the database at the new name, then remove the old names.
        A crash in between leaves an extra name for the same file, never
        none."""
        video = Video.objects.select_related("artist").get(pk=job.params["video_id"])
        if not video.file:
            return {"video_id": video.pk, "file": None}
        current = settings.LIBRARY_DIR / video.file
        if not current.is_file():
            raise WorkError(f"The video's file is missing: {video.file}", "not_found")
        target = _new_place(video, current)
        video.write_nfo(target.with_suffix(".nfo"))
        if target != current:
            with contextlib.suppress(FileNotFoundError, FileExistsError):
                os.link(media.thumb_beside(current), media.thumb_beside(target))
            Video.objects.filter(pk=video.pk).update(
                file=str(target.relative_to(settings.LIBRARY_DIR))
            )
            for old in companions(current):
                old.unlink(missing_ok=True)
            job.log("info", f"Renamed to {target.relative_to(settings.LIBRARY_DIR)}")
        return {"video_id": video.pk, "file": str(target.relative_to(settings.LIBRARY_DIR))}


class BulkRenameVideos(Kind):
    """Created already waiting by ``rename_files``; never sent."""

    name = "bulk_rename_videos"
    waits_for_children = True
    retryable = False  # its children are what can be retried

    def cancelled_many(self, jobs: list[Job]) -> None:
        pass


def rename_files(user, videos: list[Video], label: str) -> Job | None:
    """One parent job renaming the files of those ``videos`` that have one
    (after an artist's new name, or a bulk edit); None when none has."""
    filed = [video for video in videos if video.file]
    if not filed:
        return None
    specs = [ChildSpec(v.subject, {"video_id": v.pk}, f"Rename {v.label}"[:300]) for v in filed]
    with transaction.atomic():
        parent = Job.start_parent(BulkRenameVideos.name, user, label=label[:300])
        parent.add_children(RenameVideo.name, specs)
    parent.wait_for_children()
    return parent
