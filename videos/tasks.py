"""Video job kinds. The slow parts run in ``videos.ytdlp`` inside a child
process; what is here runs in the worker with the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs.actors import JobTask
from jobs.child import WorkError
from jobs.family import ChildSpec, add_children, settle
from jobs.models import Job
from videos import media
from videos.models import Video
from videos.netguard import policy_params
from videos.validation import BadUrl, check_url


def _video(job: Job) -> Video:
    return Video.objects.get(pk=job.params["video_id"])


class ExtractVideoInfo(JobTask):
    kind = "extract_video_info"
    queue = "metadata"
    time_limit = 120
    child = "videos.ytdlp:extract_info"

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": _video(job).url, "network_policy": policy_params()}

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
        return {
            "url": _video(job).url,
            "ffmpeg": media.ffmpeg_path(),
            "network_policy": policy_params(),
        }

    def succeeded(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        source = Path(result["filepath"]).resolve()
        if not source.is_file() or not source.is_relative_to(work_dir.resolve()):
            raise WorkError("The download produced no file in its work directory")
        video = _video(job)
        video.apply_info(result["info"])
        media.confirm_media(source, result["ext"])
        target = video.file_into_library(source, result["ext"])
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

    def cancelled_many(self, jobs: list[Job]) -> None:
        ids = [job.params["video_id"] for job in jobs]
        Video.objects.filter(pk__in=ids, status=Video.Status.DOWNLOADING).update(
            status=Video.Status.WANTED
        )


def queue_downloads(parent: Job, videos: list[Video]) -> int:
    """Child download jobs of ``parent`` for these videos, in bulk."""
    specs = [ChildSpec(v.subject, {"video_id": v.pk}, v.label) for v in videos]
    children = add_children(parent, "download_video", specs)
    ids = [job.params["video_id"] for job in children]
    Video.objects.filter(pk__in=ids).update(status=Video.Status.DOWNLOADING, error="")
    return len(children)


class DownloadPlaylist(JobTask):
    """A playlist, feed or channel: a Video and a child download for each entry
    not already in the library."""

    kind = "download_playlist"
    queue = "metadata"
    time_limit = 1800
    child = "videos.ytdlp:list_entries"
    waits_for_children = True

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": job.params["url"], "network_policy": policy_params()}

    def received(self, job: Job, entries: list[dict[str, str]]) -> None:
        hosts: dict[str, bool] = {}
        wanted = {}
        for entry in entries:
            try:
                url = check_url(entry["url"], hosts)
            except BadUrl as e:
                job.log("warning", f"Skipped {entry['url'][:200]}: {e}")
                continue
            wanted[url] = Video(
                owner_id=job.owner_id,
                url=url,
                title=entry["title"][:300],
                artist=entry["artist"][:200],
            )
        Video.objects.bulk_create(wanted.values(), ignore_conflicts=True)
        videos = Video.objects.filter(owner_id=job.owner_id, url__in=wanted).exclude(
            status=Video.Status.DOWNLOADED
        )
        queue_downloads(job, list(videos))

    def succeeded(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        if result["title"]:
            Job.objects.filter(pk=job.pk).update(label=f"Playlist: {result['title']}"[:300])
        return result


class BulkDownloadVideos(JobTask):
    """Created already waiting by ``Video.objects.bulk_download``; never sent."""

    kind = "bulk_download_videos"
    waits_for_children = True

    def cancelled_many(self, jobs: list[Job]) -> None:
        pass


def start_bulk_download(user, videos: list[Video]) -> Job:
    """One parent job with a child download per video, created in bulk."""
    now = timezone.now()
    with transaction.atomic():
        parent = Job.objects.create(
            kind=BulkDownloadVideos.kind,
            owner=user,
            status="running",
            is_parent=True,
            attempts=1,
            started_at=now,
            heartbeat_at=now,
            stage="creating",
            label=f"Download {len(videos)} videos",
        )
        created = queue_downloads(parent, videos)
        parent.log("info", f"Queued {created} download(s) for {len(videos)} selected video(s)")
        Job.objects.filter(pk=parent.pk).update(stage="waiting")
    parent.publish_status()
    settle(parent.pk)
    parent.refresh_from_db()
    return parent
