from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def hms(seconds) -> str:
    """Seconds as 1:02:03 / 2:03; empty for unknown."""
    if seconds is None or seconds == "":
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
