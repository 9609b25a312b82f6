"""Small pieces of the security setup that settings refer to by name."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for login throttling.

    Behind a TLS proxy (``MVIDARR_BEHIND_TLS_PROXY``) every connection comes
    from the proxy, so the address the proxy appended to ``X-Forwarded-For``
    (the right-most one: the left ones are whatever the client claimed) is
    used instead; otherwise the socket's peer.
    """
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.insert(0, forwarded.rsplit(",", 1)[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None  # e.g. Django's force_login(), which has no client
