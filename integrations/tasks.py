"""The integrations' job kinds and scheduled tasks. Nothing here runs in a
request: a notification, a media server refresh and a connection test are
each a job on the ``default`` queue, so a slow or failing server never holds
up a page or the download it reports on.

The media servers are refreshed at most once every ``MVIDARR_MEDIA_REFRESH_EVERY``
(60) seconds: a download only notes its file (``PendingRefresh``), and the
``media_refresh`` task hands whatever has gathered to one refresh job, so a
burst of 50 downloads makes one refresh, not 50.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from integrations import imvdb, mediaservers, notify
from integrations.models import DigestEntry, PendingRefresh
from integrations.options import imvdb_url
from jobs.child import WorkError
from jobs.kinds import Kind
from jobs.models import Job
from jobs.scheduler import periodic
from mvidarr import config

logger = logging.getLogger(__name__)

# At most this many new files go in one refresh; the rest wait for the next.
REFRESH_BATCH = 2000
DIGEST_LINES = 30


def system_owner():
    """Whose the integrations' own jobs are: the first staff account (people
    who are not staff do not see how staff set the integrations up)."""
    staff = get_user_model().objects.filter(is_active=True, is_staff=True)
    return staff.order_by("-is_superuser", "pk").first()


class SendNotification(Kind):
    """Send ``params`` ``title`` and ``body`` to every notification URL."""

    name = "send_notification"
    time_limit = 120

    def run_inline(self, job: Job) -> dict[str, Any]:
        urls = config.get("NOTIFY_URLS")
        if not urls:
            raise WorkError("No notification URL is set", "not_configured")
        failed = notify.send(urls, job.params["title"], job.params["body"])
        if failed:
            # Sent again only when it reached no one: the rest would get it twice.
            raise WorkError(
                f"{len(failed)} of {len(urls)} notification target(s) failed: {', '.join(failed)}",
                "notify_failed",
                transient=len(failed) == len(urls),
            )
        return {"detail": f"Sent to {len(urls)} target(s)"}


def send_later(event: str, title: str, body: str, owner=None, subject: str = "") -> Job | None:
    """Queue a notification (sent once the caller's transaction commits)."""
    owner = owner or system_owner()
    if owner is None:
        logger.warning("No staff account to own the notification %r; not sent", title)
        return None
    params = {"event": event, "title": title[:300], "body": body[:4000]}
    label = f"Notify: {title}"[:300]
    return Job.submit(SendNotification.name, owner, subject=subject, params=params, label=label)[0]


class RefreshMediaServers(Kind):
    """Tell every configured media server about ``params["paths"]``."""

    name = "refresh_media_servers"
    time_limit = 300

    def run_inline(self, job: Job) -> dict[str, Any]:
        paths = job.params["paths"]
        done, errors, transient = [], [], False
        for server in mediaservers.configured():
            try:
                done.append(mediaservers.refresh(server, paths))
            except mediaservers.ServerError as e:
                errors.append(str(e))
                transient = transient or e.transient
        if errors:
            raise WorkError("; ".join(errors + done), "media_server", transient)
        return {"detail": "; ".join(done) or "No media server is set", "files": len(paths)}


class CheckMediaServer(Kind):
    """ "Test connection" on the Settings page: is the server there, does it
    take the token (and, for Plex, does a library hold our folder)?"""

    name = "check_media_server"
    time_limit = 60

    def run_inline(self, job: Job) -> dict[str, Any]:
        name = job.params["server"]
        server = mediaservers.server(name)
        if server is None:
            title = mediaservers.TITLES[name]
            raise WorkError(f"Set the {title} URL and token first", "not_configured")
        try:
            return {"detail": mediaservers.check(server)}
        except mediaservers.ServerError as e:  # staff are waiting for the answer: no retry
            raise WorkError(str(e), "media_server") from None


class CheckImvdb(Kind):
    """ "Test the key" on the Settings page: one search that IMVDb must answer."""

    name = "check_imvdb"
    time_limit = 300

    def run_inline(self, job: Job) -> dict[str, Any]:
        try:
            with imvdb.Client(config.get("IMVDB_API_KEY"), imvdb_url()) as client:
                client.search_artists("Radiohead")
        except imvdb.ImvdbError as e:  # staff are waiting for the answer: no retry
            raise WorkError(str(e), e.code) from None
        return {"detail": f"IMVDb at {imvdb_url()} accepted the key"}


@periodic("media_refresh", lambda: settings.MEDIA_REFRESH_EVERY, "{} new file(s) sent for refresh")
def refresh_media_servers() -> int:
    """Hand the files that landed since the last refresh to one refresh job,
    unless one is still at work (then they wait for the next turn)."""
    pending = PendingRefresh.objects.all()
    if not mediaservers.configured():
        if pending.exists():
            pending.delete()  # the servers were unset since: nothing to tell
        return 0
    if Job.objects.active().filter(kind=RefreshMediaServers.name).exists():
        return 0
    owner = system_owner()
    with transaction.atomic():
        rows = list(pending.values_list("pk", "path")[:REFRESH_BATCH])
        if not rows or owner is None:
            return 0
        paths = sorted({path for _pk, path in rows})
        Job.submit(
            RefreshMediaServers.name,
            owner,
            subject="media-servers",
            params={"paths": paths},
            label=f"Refresh media servers: {len(paths)} new file(s)",
        )
        PendingRefresh.objects.filter(pk__in=[pk for pk, _path in rows]).delete()
    return len(paths)


@periodic("notify_digest", lambda: 24 * 3600, "{} event(s) in the digest")
def send_digest() -> int:
    """Send what happened since the last digest in one notification."""
    entries = DigestEntry.objects.all()
    if "daily_digest" not in config.get("NOTIFY_EVENTS") or not config.get("NOTIFY_URLS"):
        entries.delete()
        return 0
    with transaction.atomic():
        rows = list(entries.values_list("pk", "event", "text"))
        if not rows:
            return 0
        counts = Counter(event for _pk, event, _text in rows)
        summary = ", ".join(f"{n} × {event.replace('_', ' ')}" for event, n in counts.items())
        lines = [text for _pk, _event, text in rows[-DIGEST_LINES:]]
        if len(rows) > DIGEST_LINES:
            lines.insert(0, f"(the last {DIGEST_LINES} of {len(rows)})")
        title = f"MVidarr daily digest: {summary}"
        send_later("daily_digest", title, "\n".join(lines))
        DigestEntry.objects.filter(pk__lte=rows[-1][0]).delete()
    return len(rows)
