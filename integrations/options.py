"""The integrations' run-time options (see ``mvidarr.config``): notification
targets and events, Jellyfin, Plex and IMVDb. Targets staff configure are
exempt from the URL rule that content obeys: they are configuration."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from mvidarr import config
from mvidarr.config import Option, declare

# The events staff can pick, and the words the page shows for them.
EVENTS = {
    "video_downloaded": "A video was downloaded",
    "job_failed": "A job failed (after its last attempt)",
    "source_new_videos": "A followed source found new videos",
    "daily_digest": "A daily digest of all of these",
}
DEFAULT_EVENTS = ["video_downloaded", "job_failed", "source_new_videos"]
MAX_NOTIFY_URLS = 20
TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: it goes in a header


def server_url(value: str) -> None:
    """An http(s) URL of a server on the network: any host name (a container's
    name too), a port, a path; nothing else."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ValidationError("Not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL with a host name.")
    if parts.query or parts.fragment or parts.username or any(c.isspace() for c in value):
        raise ValidationError("Enter the server's address alone: no spaces, query or login.")


def token(value: str) -> None:
    if not TOKEN.fullmatch(value):
        raise ValidationError("A token is printable characters without spaces.")


def _server(name: str, title: str, example: str) -> Option:
    """A media server's address: set by ``MVIDARR_<NAME>_URL``."""

    def field() -> forms.Field:
        return forms.CharField(
            label=f"{title} URL",
            max_length=500,
            required=False,
            validators=[server_url],
            help_text=f"As MVidarr reaches it, e.g. {example}",
        )

    return Option(f"{name}_URL", f"MVIDARR_{name}_URL", name.lower(), field)


def _secret(name: str, group: str, label: str, help_text: str) -> Option:
    """A token or key: set by ``MVIDARR_<name>``, never shown back."""

    def field() -> forms.Field:
        return forms.CharField(
            label=label,
            max_length=200,
            required=False,
            validators=[token],
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            help_text=help_text,
        )

    return Option(name, f"MVIDARR_{name}", group, field, secret=True)


declare(
    # Edited as a list on the page (add, remove), never shown back in full.
    Option("NOTIFY_URLS", "MVIDARR_NOTIFY_URLS", "notifications", secret=True),
    Option(
        "NOTIFY_EVENTS",
        None,
        "notifications",
        lambda: forms.MultipleChoiceField(
            label="Notify when",
            choices=list(EVENTS.items()),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        ),
        default=DEFAULT_EVENTS,
    ),
    _server("JELLYFIN", "Jellyfin", "http://jellyfin:8096"),
    _secret("JELLYFIN_TOKEN", "jellyfin", "Jellyfin API key", "Dashboard → API keys."),
    _server("PLEX", "Plex", "http://plex:32400"),
    _secret(
        "PLEX_TOKEN", "plex", "Plex token", "The X-Plex-Token of an account that owns the server."
    ),
    _secret("IMVDB_API_KEY", "imvdb", "IMVDb API key", "From your IMVDb developer account."),
    _server("IMVDB", "IMVDb API", "https://imvdb.com/api/v1 (the public API)"),
)


def imvdb_url() -> str:
    """The IMVDb API's address as set, else the public API (also for a box left empty)."""
    return config.get("IMVDB_URL") or settings.IMVDB_URL
