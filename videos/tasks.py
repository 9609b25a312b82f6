"""Video job kinds. The slow parts run in ``videos.ytdlp`` inside a child
process; what is here runs in the worker with the database."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jobs.actors import JobTask
from jobs.child import WorkError
from jobs.models import Job
from videos import media
from videos.models import Video


def _video(job: Job) -> Video:
    return Video.objects.get(pk=job.params["video_id"])


class ExtractVideoInfo(JobTask):
    kind = "extract_video_info"
    queue = "metadata"
    time_limit = 120
    child = "videos.ytdlp:extract_info"

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": _video(job).url}

    def succeeded(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        video = _video(job)
        video.apply_info(result)
        return {
            "video_id": video.pk,
            "title": video.title,
            "artist": video.artist,
            "duration": video.duration,
        }


class DownloadVideo(JobTask):
    kind = "download_video"
    queue = "video_downloads"
    time_limit = 6 * 3600
    child = "videos.ytdlp:download"

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": _video(job).url, "ffmpeg": media.ffmpeg_path()}

    def succeeded(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        source = Path(result["filepath"]).resolve()
        if not source.is_file() or not source.is_relative_to(work_dir.resolve()):
            raise WorkError("The download produced no file in its work directory")
        video = _video(job)
        video.apply_info(result["info"])
        target = video.library_path(result["ext"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        duration = media.probe_duration(target) or result["info"].get("duration")
        media.write_nfo(
            target.with_suffix(".nfo"),
            title=video.title,
            artist=video.artist,
            duration=duration,
            info=result["info"],
        )
        video.mark_downloaded(target, target.stat().st_size, duration)
        return {"video_id": video.pk, "file": video.file, "file_size": video.file_size}

    def queued(self, job: Job) -> None:
        _video(job).mark_downloading()

    def failed(self, job: Job) -> None:
        _video(job).mark_failed(job.error)

    def cancelled(self, job: Job) -> None:
        _video(job).mark_wanted()
