from __future__ import annotations

import time

from django import template

register = template.Library()

# The rows of a page were read a little before its socket's ``since`` is
# taken, and a worker's clock may be behind this host's: go back this many
# seconds more (the socket then re-sends a few rows that had not changed).
SINCE_SLACK = 30


@register.simple_tag
def live_since() -> str:
    """When this page was rendered, as its socket's ``since``: the socket
    then sends the rows whose jobs finished before it connected
    (``jobs.consumers.UiConsumer._snapshot``)."""
    return f"{time.time() - SINCE_SLACK:.3f}"


@register.filter
def hms(seconds) -> str:
    """Seconds as 1:02:03 / 2:03; empty for unknown."""
    if seconds is None or seconds == "":
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
