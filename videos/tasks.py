"""Video job kinds. The slow parts run in ``videos.ytdlp`` inside a child
process; what is here runs in the worker with the database."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects

from integrations import events
from jobs import pause
from jobs.child import WorkError
from jobs.kinds import Kind, Refused
from jobs.models import ChildSpec, Job
from mvidarr import config
from mvidarr.compiled import Change
from videos import media, nfo, probing
from videos.models import Artist, Profile, UnknownProfile, Video, download_settings, name_key
from videos.netguard import policy_params
from videos.titles import from_info
from videos.validation import BadUrl, check_url

YTDLP = ("videos.ytdlp", *probing.PROBE_PRELOAD)
# What a video added from the Library says when its URL holds nothing yt-dlp knows.
UNSUPPORTED = "Nothing to download here: MVidarr found no video, playlist or feed at this URL."
NOT_A_VIDEO = (
    "This URL is a playlist or feed, not one video: add it in the Library, or with "
    "POST /api/jobs (kind download_playlist), to get its videos."
)


def _video(job: Job) -> Video:
    return Video.objects.get(pk=job.params["video_id"])


def _profile(data: dict[str, Any]) -> Profile | None:
    try:
        return Profile.objects.resolve(data.get("profile"))
    except UnknownProfile as e:
        raise Refused(str(e)) from None


def _add(owner, data: dict[str, Any]) -> Video:
    profile = _profile(data)
    try:
        return Video.objects.add(
            owner, data["url"], data.get("title"), data.get("artist"), profile
        )[0]
    except BadUrl as e:
        raise Refused(str(e)) from None


class ExtractVideoInfo(Kind):
    """A video's metadata. For a URL from the Library's add box
    (``Video.resolve``: params ``resolve`` and ``download``) it also decides
    what the URL is, since only yt-dlp can tell a feed from a video:

    1. a video: its metadata, then its download if ``download`` was ticked;
    2. a playlist, feed or channel: a ``download_playlist`` job of the same
       URL, and the stand-in video is deleted (its row on the page says so);
    3. nothing yt-dlp knows: the video fails with a message saying so.

    A video added over the API that turns out to be a playlist fails with a
    message pointing to ``download_playlist`` (the API keeps its video)."""

    name = "extract_video_info"
    queue = "metadata"
    time_limit = 120
    quiet = True  # each video's page lists it; Activity shows it on request
    child = "videos.ytdlp:extract_info"
    preload = YTDLP

    def start(self, owner, data: dict[str, Any]) -> Job:
        return _add(owner, data).request_info(owner)

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": _video(job).url, "network_policy": policy_params()}

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        video = _video(job)
        if stored.get("_type") == "playlist":
            return self._playlist(job, video, stored["title"])
        video.apply_info(stored, job)
        if job.params.get("download") and video.status == Video.Status.WANTED:
            video.request_download(job.owner)
        return {
            "video_id": video.pk,
            "title": video.title,
            "artist": video.artist_name,
            "artist_id": video.artist_id,
            "duration": video.duration,
        }

    def _playlist(self, job: Job, video: Video, title: str) -> dict[str, Any]:
        if not job.params.get("resolve"):
            video.mark_failed(NOT_A_VIDEO)
            return {"video_id": video.pk, "playlist": True}
        playlist = start_playlist(
            job.owner, video.url, video.profile_id, download=job.params.get("download", True)
        )
        video.cancel_jobs(keep=job)
        video.delete()
        job.log("info", f"A playlist: job {playlist.pk} adds its videos")
        return {"playlist_job_id": str(playlist.pk), "title": title, "url": video.url}

    def failed(self, job: Job) -> None:
        if job.params.get("resolve"):
            error = UNSUPPORTED if job.error_code == "unsupported" else job.error
            Video.objects.filter(pk=job.params["video_id"], status=Video.Status.WANTED).update(
                status=Video.Status.FAILED, error=error[:2000]
            )


class DownloadVideo(Kind):
    name = "download_video"
    queue = "video_downloads"
    time_limit = 6 * 3600
    child = "videos.ytdlp:download"
    preload = YTDLP
    busy_stages = frozenset({"processing"})  # ffmpeg reports no bytes
    pausable = True
    run_now_label = "Download now"

    def start(self, owner, data: dict[str, Any]) -> Job:
        return _add(owner, data).request_download(owner)[0]

    def queued(self, jobs: list[Job]) -> Change:
        videos = [job.params["video_id"] for job in jobs]
        return Video, videos, {"status": Video.Status.DOWNLOADING, "error": ""}

    def prepare(self, job: Job) -> dict[str, Any]:
        min_free_mb = config.get("MIN_FREE_MB")
        media.check_free_space(settings.LIBRARY_DIR, settings.WORK_DIR, need=min_free_mb)
        video = Video.objects.select_related("profile").get(pk=job.params["video_id"])
        profile = download_settings(video.profile)
        job.log("info", f"Profile: {profile['name']}", defer=True)
        return {
            "url": video.url,
            "profile": profile,
            "ffmpeg": media.ffmpeg_path(),
            "network_policy": policy_params(),
            "max_filesize": settings.MAX_FILESIZE_MB * 1024 * 1024 or None,
            "min_free_mb": min_free_mb,
            "ffmpeg_preset": settings.FFMPEG_PRESET,
            "tags": {"title": video.title, "artist": video.artist_name},
        }

    def store(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        """Move the file the child confirmed as media into the library and
        write its NFO: the slow part, before the short transaction that marks
        the job done."""
        source = Path(result["filepath"]).resolve()
        if not source.is_file() or not source.is_relative_to(work_dir.resolve()):
            raise WorkError("The download produced no file in its work directory")
        video = _video(job)
        video.fill_from(result["info"])
        found = result["media"]
        found["duration"] = found["duration"] or result["info"].get("duration")
        target = video.file_into_library(source, result["ext"])
        nfo.write_nfo(
            target.with_suffix(".nfo"),
            title=video.title,
            artist=video.artist_name,
            media=found,
            info=result["info"],
        )
        return {"path": str(target), "info": result["info"], "media": found}

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        video = _video(job)
        old = video.file
        video.apply_info(stored["info"], job)
        target = Path(stored["path"])
        video.mark_downloaded(target, target.stat().st_size, stored["media"])
        job.log("info", f"Saved to {video.file}")
        label = video.label
        # Notifications and media servers hear of it once it is committed.
        transaction.on_commit(lambda: events.video_downloaded(label, stored["path"]))
        if video.has_picture_source:  # a job of its own kind: it never waits for this one
            video.request_thumbnails(job.owner)
        if old and old != video.file:
            # A re-download: the old file goes once the new one is recorded, never before.
            transaction.on_commit(lambda: Video.objects.remove_file_if_unused(old))
        return {"video_id": video.pk, "file": video.file, "file_size": video.file_size}

    def discard(self, job: Job, stored: dict[str, Any]) -> None:
        target = Path(stored["path"])
        for path in (target, target.with_suffix(".nfo")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def failed(self, job: Job) -> None:
        _video(job).mark_failed(job.error)
        if job.error_code == "disk_full":  # the next download would fail the same way
            pause.pause(reason=f"Disk full: {job.error}")

    def cancelled(self, job: Job) -> None:
        _video(job).mark_wanted()

    def cancelled_many(self, jobs: list[Job]) -> None:
        Video.objects.filter(pk__in=[job.params["video_id"] for job in jobs]).stop_downloading()


def queue_downloads(parent: Job, videos: list[Video]) -> int:
    """Child download jobs of ``parent`` for these videos, in bulk; ignored
    videos are left out."""
    videos = [v for v in videos if v.status != Video.Status.IGNORED]
    prefetch_related_objects(videos, "artist")  # their labels name it: one query, not one each
    specs = [ChildSpec(v.subject, {"video_id": v.pk}, v.label) for v in videos]
    return len(parent.add_children(DownloadVideo.name, specs))


class DownloadPlaylist(Kind):
    """A playlist, feed or channel: a Video and a child download for each entry
    not already in the library."""

    name = "download_playlist"
    queue = "metadata"
    time_limit = 1800
    child = "videos.ytdlp:list_entries"
    preload = YTDLP
    waits_for_children = True

    def start(self, owner, data: dict[str, Any]) -> Job:
        profile = _profile(data)
        try:
            url = check_url(data["url"])
        except BadUrl as e:
            raise Refused(str(e)) from None
        return start_playlist(owner, url, profile.pk if profile else None)

    def prepare(self, job: Job) -> dict[str, Any]:
        return {"url": job.params["url"], "network_policy": policy_params()}

    def received(self, job: Job, entries: list[dict[str, str]]) -> None:
        """A batch of entries becomes videos (and their artists) and child
        downloads, in a few bulk queries."""
        hosts: dict[str, bool] = {}
        wanted, names = {}, {}
        # The playlist's profile, unless it was deleted since the job started.
        profile_id = job.params.get("profile_id")
        if profile_id and not Profile.objects.filter(pk=profile_id).exists():
            profile_id = None
        for entry in entries:
            try:
                url = check_url(entry["url"], hosts)
            except BadUrl as e:
                job.log("warning", f"Skipped {entry['url'][:200]}: {e}")
                continue
            parsed = from_info(entry)
            names[url] = parsed.artist
            wanted[url] = Video(
                owner_id=job.owner_id, url=url, title=parsed.title, profile_id=profile_id
            )
        with transaction.atomic():
            artists = Artist.objects.for_names(job.owner_id, names.values())
            for url, video in wanted.items():
                video.artist = artists.get(name_key(names[url]))
            Video.objects.bulk_create(wanted.values(), ignore_conflicts=True)
            if not job.params.get("download", True):  # from the Library, without "Download now"
                return
            videos = Video.objects.filter(owner_id=job.owner_id, url__in=wanted).exclude(
                status__in=(Video.Status.DOWNLOADED, Video.Status.IGNORED)
            )
            queue_downloads(job, list(videos))

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        if stored["title"]:
            job.set_label(f"Playlist: {stored['title']}")
        return stored


def start_playlist(owner, url: str, profile_id: int | None, download: bool = True) -> Job:
    """The owner's ``download_playlist`` job for a checked URL (the active one
    if there is one). Without ``download`` its entries only become videos."""
    # Per owner: two people following one playlist each get their own job.
    digest = hashlib.sha256(f"{owner.pk}:{url}".encode()).hexdigest()[:32]
    params = {"url": url, "profile_id": profile_id}
    if not download:
        params["download"] = False
    job, _ = Job.submit(
        DownloadPlaylist.name, owner, subject=f"playlist:{digest}", params=params, label=url
    )
    return job


class BulkDownloadVideos(Kind):
    """Created already waiting by ``start_bulk_download``; never sent."""

    name = "bulk_download_videos"
    waits_for_children = True
    retryable = False  # its children are what can be retried

    def cancelled_many(self, jobs: list[Job]) -> None:
        pass


def start_bulk_download(user, videos: list[Video], label: str = "") -> Job:
    """One parent job with a child download per video, created in bulk."""
    with transaction.atomic():
        parent = Job.start_parent(
            BulkDownloadVideos.name, user, label=label or f"Download {len(videos)} videos"
        )
        created = queue_downloads(parent, videos)
        parent.log("info", f"Queued {created} download(s) for {len(videos)} selected video(s)")
    parent.wait_for_children()
    parent.refresh_from_db()
    return parent
