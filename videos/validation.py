"""Checks on URLs people submit, before any of them reaches yt-dlp."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.conf import settings

from videos.netguard import Policy, refusal

MAX_URL_LENGTH = 2048


class BadUrl(ValueError):
    pass


def check_url(url: str, checked_hosts: dict[str, bool] | None = None) -> str:
    """Return the URL stripped, or raise ``BadUrl`` saying what is wrong.

    Only http(s) URLs with a host pass. Hosts that resolve to loopback,
    private, link-local or otherwise non-public addresses are refused unless
    ``MVIDARR_ALLOW_PRIVATE_URLS`` is on or ``MVIDARR_ALLOWED_NETWORKS`` covers
    them (see ``videos.netguard``: the same rule guards every connection a job
    makes). ``checked_hosts`` remembers hosts already found allowed, for
    checking a batch of URLs with one lookup per host.
    """
    if not isinstance(url, str):
        raise BadUrl("The URL must be a string.")
    url = url.strip()
    if not url:
        raise BadUrl("Enter a URL.")
    if len(url) > MAX_URL_LENGTH:
        raise BadUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise BadUrl("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadUrl("This is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadUrl("Only http:// and https:// URLs are supported.")
    host = parts.hostname
    if not host:
        raise BadUrl("The URL has no host.")
    if parts.username or parts.password:
        raise BadUrl("URLs with a user name or password are not accepted.")
    if not settings.ALLOW_PRIVATE_URLS and not (checked_hosts or {}).get(host):
        _check_public(host, port or (443 if parts.scheme.lower() == "https" else 80))
        if checked_hosts is not None:
            checked_hosts[host] = True
    return url


def _check_public(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise BadUrl(f"The host {host!r} could not be resolved.") from None
    policy = Policy(settings.ALLOW_PRIVATE_URLS, tuple(settings.ALLOWED_NETWORKS))
    for info in infos:
        if why := refusal(info[4][0].split("%", 1)[0], policy):
            raise BadUrl(
                f"The host {host!r} is on a private or local network; such URLs are "
                f"refused ({why})."
            )
