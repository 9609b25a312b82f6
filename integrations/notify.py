"""Sending notifications through Apprise: the only module that imports it.

Notification URLs carry secrets (bot tokens, webhook keys, passwords), so
they are only ever shown, logged or stored in a job as Apprise's privacy
form (``url(privacy=True)``, secrets masked) without its query string.
"""

from __future__ import annotations

import hashlib
import logging

import apprise

logger = logging.getLogger(__name__)

# Seconds Apprise may take for one notification, all targets together.
TIMEOUT = 60


class BadUrl(ValueError):
    pass


def _asset() -> apprise.AppriseAsset:
    # Nothing on disk: Apprise's persistent store would otherwise keep state
    # under the home directory.
    return apprise.AppriseAsset(storage_mode="memory")


def check(url: str) -> str:
    """The URL if Apprise knows how to notify it; ``BadUrl`` otherwise."""
    if apprise.Apprise.instantiate(url, asset=_asset()) is None:
        raise BadUrl("Apprise does not know this URL (see its list of services).")
    return url


def describe(url: str) -> str:
    """The URL with its secrets masked, for pages and logs."""
    plugin = apprise.Apprise.instantiate(url, asset=_asset())
    if plugin is None:
        return "(a URL Apprise cannot read)"
    return plugin.url(privacy=True).partition("?")[0]


def fingerprint(url: str) -> str:
    """A short name for a URL that reveals nothing of it (the page's Remove button)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def send(urls: list[str], title: str, body: str) -> list[str]:
    """Notify every URL; returns the masked URLs that failed (empty: all went out)."""
    notifier = apprise.Apprise(asset=_asset())
    failed = []
    for url in urls:
        if not notifier.add(url):
            failed.append(describe(url))
    if len(notifier):
        with notifier.notify(body=body, title=title, timeout=TIMEOUT) as result:
            failed += [service.url.partition("?")[0] for service in result if not service]
    if failed:
        logger.warning("Notification %r did not reach %s", title, ", ".join(failed))
    return failed
