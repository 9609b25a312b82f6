"""The video: one URL in one owner's library, and its file there (named,
placed and found by ``videos.models.filing``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from jobs.models import Job
from mvidarr.compiled import CompiledSelect
from mvidarr.roles import library_of, library_owner_id
from videos import titles
from videos.models.artist import Artist
from videos.models.filing import TECHNICAL, LibraryFiling
from videos.models.library import remove_files, remove_thumbnails
from videos.models.profile import Profile
from videos.models.status import VideoStatus
from videos.models.text import MAX_ID, clean_text
from videos.models.thumbnails import Thumbnails
from videos.validation import check_url

# What people may set for the NFO, beside artist and title.
NFO_FIELDS = ("year", "album", "genre", "director")
DOWNLOAD_KIND = "download_video"


class VideoQuerySet(models.QuerySet):
    def for_user(self, user) -> VideoQuerySet:
        """What ``user`` may see: everything for staff, else their own (and
        a viewer its owner's, see ``mvidarr.roles``)."""
        return self if user.is_staff else self.filter(library_of(user))

    def get_for_user(self, user, pk: int) -> Video:
        """``for_user(user).get(pk=pk)`` with its artist, compiled once (every
        action on one video starts here); ``Video.DoesNotExist`` if ``user``
        may not see it or no id can be ``pk``."""
        if not 0 < pk <= MAX_ID:
            raise Video.DoesNotExist
        if user.is_staff:
            found = _BY_ID.run(pk=pk)
        else:
            found = _VISIBLE_BY_ID.run(pk=pk, owner=user.pk, viewed=library_owner_id(user))
        if not found:
            raise Video.DoesNotExist
        return found[0]

    def stop_downloading(self) -> int:
        """A download ended without a new file: back to what the library holds
        (the old file of a re-download stays, and so does "downloaded")."""
        return self.filter(status=Video.Status.DOWNLOADING).update(
            status=_with_file_or(Video.Status.WANTED)
        )

    def remove_file_if_unused(self, name: str) -> list[Path]:
        """Remove a library file with its NFO and thumbnail, unless a video
        still refers to it (see ``remove_files``)."""
        if not name or self.filter(file=name).exists():
            return []
        return remove_files(name)

    def add(
        self,
        owner,
        url: str,
        title: str = "",
        artist: str = "",
        profile: Profile | None = None,
    ) -> tuple[Video, bool]:
        """The owner's video for ``url`` (checked, ``BadUrl`` if refused),
        created if new, with the artist of that name (made if new). A profile
        asked for is kept, also on a known video."""
        video, created = self.get_or_create(
            owner=owner,
            url=check_url(url),
            defaults={
                "title": (title or "").strip(),
                # Called only when the video is new: a known one keeps its artist.
                "artist": lambda: Artist.objects.named(owner.pk, artist),
                "profile": profile,
            },
        )
        if not created and profile is not None and video.profile_id != profile.pk:
            video.profile = profile
            video.save(update_fields=["profile", "updated_at"])
        return video, created


class Video(LibraryFiling, Thumbnails, models.Model):
    Status = VideoStatus

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos"
    )
    url = models.URLField(max_length=2048)
    title = models.CharField(max_length=300, blank=True)
    artist = models.ForeignKey(
        Artist,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="videos",
        help_text="Empty: filed under “Unknown Artist”.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.WANTED, db_index=True
    )
    error = models.TextField(blank=True)
    file = models.CharField(max_length=1024, blank=True, help_text="Path inside the library.")
    file_size = models.BigIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    # What the probe found in the file (see TECHNICAL).
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    video_codec = models.CharField(max_length=30, blank=True)
    audio_codec = models.CharField(max_length=30, blank=True)
    container = models.CharField(max_length=10, blank=True)
    # The rest of what a music video's NFO holds.
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    album = models.CharField(max_length=200, blank=True)
    genre = models.CharField(max_length=100, blank=True)
    director = models.CharField(max_length=200, blank=True)
    thumbnail_url = models.URLField(max_length=2048, blank=True)
    # The file's quick hash (``videos.scan.quick_hash``): the same file is never imported twice.
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # The thumbnails made (``videos.thumbnails``): each size's key ("320",
    # "640", "1280") and the width of its file, which is smaller when the
    # source was (never upscaled). The version changes their URLs on every
    # regeneration, so browsers may cache them for long.
    thumbnail_sizes = models.JSONField(default=dict, blank=True)
    thumbnails_version = models.PositiveIntegerField(default=0)
    source_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    profile = models.ForeignKey(
        Profile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="videos",
        help_text="Empty: the default profile when the video is downloaded.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VideoQuerySet.as_manager()

    # For the pages (``note_cancelled``): the video waits because its last
    # download was cancelled. It stays ``wanted``; the pages say "Cancelled".
    download_cancelled = False

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "url"], name="one_video_per_url")]

    def __str__(self) -> str:
        return f"{self.artist_name or '?'} - {self.title or self.url}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.title = clean_text(self.title)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.artist and self.artist.owner_id != self.owner_id:
            raise ValidationError({"artist": "This artist is in another owner's library."})

    @property
    def subject(self) -> str:
        return f"video:{self.pk}"

    @property
    def display_title(self) -> str:
        return self.title or self.url

    @property
    def artist_name(self) -> str:
        """The artist's name, "" for none: what labels, paths, NFOs, tags and
        the API's ``artist`` say."""
        return self.artist.name if self.artist else ""

    @property
    def label(self) -> str:
        artist = self.artist_name
        return (f"{artist} - {self.display_title}" if artist else self.display_title)[:300]

    @staticmethod
    def note_cancelled(videos: list[Video]) -> None:
        """Set ``download_cancelled`` on the wanted videos among these whose
        newest download job was cancelled, in one query."""
        wanted = {video.subject: video for video in videos if video.status == Video.Status.WANTED}
        if not wanted:
            return
        newest = dict(
            Job.objects.filter(subject__in=wanted, kind=DOWNLOAD_KIND)
            .order_by("created_at")
            .values_list("subject", "status")
        )
        for subject, video in wanted.items():
            video.download_cancelled = newest.get(subject) == Job.Status.CANCELLED

    def active_job(self) -> Job | None:
        return Job.objects.active().filter(subject=self.subject).order_by("-created_at").first()

    # -- actions ---------------------------------------------------------------

    def request_info(self, user, params: dict[str, Any] | None = None) -> Job:
        job, _ = Job.submit(
            "extract_video_info",
            user,
            subject=self.subject,
            params={"video_id": self.pk, **(params or {})},
            label=self.label,
        )
        return job

    def resolve(self, user, download: bool) -> Job:
        """Find out what the URL is, as a metadata job: a video gets its info
        (and a download, if ``download``); a playlist, feed or channel becomes
        a ``download_playlist`` job and this stand-in video goes away (see
        ``videos.tasks.ExtractVideoInfo``)."""
        return self.request_info(user, {"resolve": True, "download": download})

    def request_download(self, user) -> tuple[Job, bool]:
        """Queue a download, or return the one already queued or running. A
        downloaded video is downloaded again: its new file replaces the old
        one once it is in the library (``DownloadVideo.succeeded``)."""
        return Job.submit(
            DOWNLOAD_KIND,
            user,
            subject=self.subject,
            params={"video_id": self.pk},
            label=self.label,
        )

    def request_thumbnails(self, user) -> Job:
        """Queue making the thumbnails, or return the job already doing it."""
        job, _ = Job.submit(
            "make_thumbnails",
            user,
            subject=self.subject,
            params={"video_id": self.pk},
            label=self.label,
        )
        return job

    def cancel_jobs(self, kind: str | None = None, keep: Job | None = None) -> int:
        """Cancel the video's active jobs (of one kind); a running one stops
        within a second and leaves no partial file behind."""
        jobs = Job.objects.active().filter(subject=self.subject)
        if kind:
            jobs = jobs.filter(kind=kind)
        if keep is not None:
            jobs = jobs.exclude(pk=keep.pk)
        return sum(job.cancel() for job in jobs)

    def ignore(self) -> None:
        """Never download this video in bulk or from a playlist; a download
        already queued or running is cancelled."""
        self.cancel_jobs(DOWNLOAD_KIND)
        Video.objects.filter(pk=self.pk).update(status=self.Status.IGNORED)
        self.refresh_from_db(fields=["status"])

    def unignore(self) -> None:
        """Back to what the library holds: downloaded if it has a file, else wanted."""
        Video.objects.filter(pk=self.pk, status=self.Status.IGNORED).update(
            status=_with_file_or(self.Status.WANTED)
        )
        self.refresh_from_db(fields=["status"])

    def remove(self, delete_file: bool = False) -> list[Path]:
        """Delete the video from the library. Its active jobs are cancelled
        first, and the thumbnails made for the pages go; with ``delete_file`` its
        file, NFO and thumbnail go too (only inside the library, see
        ``remove_files``). Returns the library files removed."""
        # One transaction: the jobs' "cancelled" events, sent on commit, find
        # the video gone, so open pages drop its row.
        pk = self.pk
        with transaction.atomic():
            self.cancel_jobs()
            self.refresh_from_db(fields=["file"])  # a download may have landed meanwhile
            self.delete()
        remove_thumbnails(pk)
        return Video.objects.remove_file_if_unused(self.file) if delete_file else []

    def fill_from(self, info: dict[str, Any]) -> None:
        """Fill what the user left blank from yt-dlp's metadata (not saved;
        an artist met for the first time is created). The title is split into
        artist and title (``videos.titles``)."""
        parsed = titles.from_info(info)
        self.title = self.title or parsed.title
        if self.artist is None and parsed.artist:
            self.artist = Artist.objects.named(self.owner_id, parsed.artist)
        self.duration = info.get("duration") or self.duration
        self.thumbnail_url = (info.get("thumbnail") or self.thumbnail_url or "")[:2048]
        self.source_id = (info.get("id") or self.source_id)[:200]
        self.album = self.album or clean_text(info.get("album") or "")[:200]
        self.genre = self.genre or clean_text(info.get("genre") or "")[:100]
        year = str(info.get("release_year") or info.get("upload_date") or "")[:4]
        self.year = self.year or (int(year) if year.isdigit() else None)
        self.metadata = info

    def apply_info(self, info: dict[str, Any], job: Job | None = None) -> None:
        """``fill_from`` and save, and name the video's jobs anew: ``job``, the
        one finishing in this transaction (its row locked already), along
        with its outcome; the others once it is committed."""
        self.fill_from(info)
        # Only these fields, and only those with a value: a download finishing
        # at the same time sets the status, the file and the probed duration.
        filled = ("title", "artist", "duration", "thumbnail_url", "source_id", "metadata")
        filled += ("album", "genre", "year")
        self.save(update_fields=[f for f in filled if getattr(self, f)] + ["updated_at"])
        # After the commit: inside a job's transaction, touching the other
        # jobs' rows of this video could deadlock with their own transactions.
        label, subject = self.label, self.subject
        if job is not None:  # never seen finished under its old name
            job.set_label(label)
        transaction.on_commit(lambda: Job.objects.relabel(subject, label))

    def mark_downloaded(self, path: Path, size: int, media: dict[str, Any]) -> None:
        """The file is in the library; ``media`` is what its probe found (``probing.technical``)."""
        self.file = str(path.relative_to(settings.LIBRARY_DIR))
        self.file_size = size
        self.duration = media.get("duration") or self.duration
        for field in TECHNICAL:
            setattr(self, field, media.get(field) or getattr(self, field))
        self.status = self.Status.DOWNLOADED
        self.error = ""
        fields = ["file", "file_size", "duration", *TECHNICAL, "status", "error", "updated_at"]
        self.save(update_fields=fields)

    def mark_failed(self, error: str) -> None:
        """A download failed: "failed", unless an earlier file is still in the library."""
        Video.objects.filter(pk=self.pk).update(
            status=_with_file_or(self.Status.FAILED), error=error[:2000]
        )

    def mark_wanted(self) -> None:
        Video.objects.filter(pk=self.pk).stop_downloading()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "url": self.url,
            "title": self.title,
            "artist": self.artist_name,
            "artist_id": self.artist_id,
            "status": self.status,
            "error": self.error or None,
            "file": self.file or None,
            "file_size": self.file_size,
            "duration": self.duration,
            **{field: getattr(self, field) or None for field in TECHNICAL},
            **{field: getattr(self, field) or None for field in NFO_FIELDS},
            "thumbnail_url": self.thumbnail_url or None,
            "thumbnails": self.thumbnails,
            "profile_id": self.profile_id,
            "created_at": self.created_at,
        }


def _with_file_or(status: str) -> Case:
    """In an UPDATE: "downloaded" for a video with a library file, else ``status``."""
    return Case(When(file="", then=Value(status)), default=Value(Video.Status.DOWNLOADED))


# ``VideoQuerySet.get_for_user``: a video by id, for staff and for the others
# (their own, and a viewer's owner's: ``library_of``), with its artist.
_BY_ID = CompiledSelect(
    Video,
    {"pk": ("id", -1)},
    lambda p: Video.objects.select_related("artist").filter(pk=p["pk"]),
)
_VISIBLE_BY_ID = CompiledSelect(
    Video,
    {"pk": ("id", -1), "owner": ("owner", -2), "viewed": ("owner", -3)},
    lambda p: Video.objects.select_related("artist").filter(
        pk=p["pk"], owner_id__in=(p["owner"], p["viewed"])
    ),
)
