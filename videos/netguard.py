"""Where content may make MVidarr connect: the address policy and its guard.

One rule, used twice:

* at submit time, ``videos.validation.check_url`` resolves the host and asks
  ``refusal()`` about every address (a quick, friendly answer in the form);
* at connect time, inside a job's child process, ``install()`` wraps
  ``socket.socket.connect``/``connect_ex`` so that *every* connection the child
  makes -- yt-dlp's pages, redirects, manifests, segments, embeds, feed
  entries -- is judged on the address actually being connected to. A check
  at submit alone is beaten by redirects, embeds and DNS rebinding; a check on
  the socket is not, because the kernel is handed exactly the address judged.

The child has no Django settings: the policy travels to it as plain
parameters (``Policy.as_params()``, see ``policy_params()``).

No Django and no yt-dlp imports here: this module runs in the child.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib import request

from django.conf import settings  # read only in the web and worker processes

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
SETTINGS_HINT = (
    "set MVIDARR_ALLOWED_NETWORKS to a network containing it (e.g. {net}) to allow "
    "just that network, or MVIDARR_ALLOW_PRIVATE_URLS=true to allow every private address"
)


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    def as_params(self) -> dict[str, Any]:
        return {
            "allow_private": self.allow_private,
            "allowed_networks": [str(n) for n in self.allowed_networks],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> Policy:
        """The policy sent by the parent; with none at all, the strict default."""
        params = params or {}
        return cls(
            allow_private=bool(params.get("allow_private")),
            allowed_networks=parse_networks(params.get("allowed_networks") or []),
        )


def parse_networks(items: list[str] | str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/24,192.168.1.5"`` -> networks; ``ValueError`` on any bad item.

    Strict: host bits set (``10.0.0.5/24``) are an error, not silently widened.
    """
    if isinstance(items, str):
        items = [i for i in (p.strip() for p in items.split(",")) if i]
    return tuple(ipaddress.ip_network(item, strict=True) for item in items)


def policy_params() -> dict[str, Any]:
    """The running settings' policy, as plain parameters for a job's child."""
    return Policy(settings.ALLOW_PRIVATE_URLS, tuple(settings.ALLOWED_NETWORKS)).as_params()


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries, if it carries one.

    IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``, 6to4
    ``2002::/16``, NAT64 ``64:ff9b::/96`` (and the local-use ``64:ff9b:1::/48``),
    the old IPv4-compatible ``::a.b.c.d`` and Teredo's client address all reach
    an IPv4 host, so they are judged as that host.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in NAT64) or address in IPV4_TRANSLATED:
        return low32
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return low32
    return None


def refusal(address: str | IPAddress, policy: Policy) -> str | None:
    """None if the policy lets us connect to ``address``, else why not."""
    if policy.allow_private:
        return None
    raw = ipaddress.ip_address(address)
    judged = embedded_ipv4(raw) or raw
    if any(a in net for net in policy.allowed_networks for a in {raw, judged}):
        return None
    if judged.is_global and not judged.is_multicast:
        return None
    kind = "loopback" if judged.is_loopback else "private or local"
    net = f"{judged}/{judged.max_prefixlen}"
    return f"{judged} is a {kind} address; " + SETTINGS_HINT.format(net=net)


class RefusedAddress(ConnectionRefusedError):
    """A connection the policy does not allow. Never retried."""


@dataclass
class Guard:
    """What the guard in this process refused (read after yt-dlp gives up, since
    yt-dlp wraps socket errors into its own and may retry or swallow them)."""

    policy: Policy
    refused: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # address -> host name asked for
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, address: Any, family: int) -> None:
        if family not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets (the pipe to the supervisor) reach no network
        host, port = address[0], address[1]
        try:
            why = refusal(host.split("%", 1)[0], self.policy)
        except ValueError:
            why = f"{host!r} is not an address"
        if why is None:
            return
        name = self.names.get(host)
        shown = f"{name!r} ({host} port {port})" if name and name != host else f"{host} port {port}"
        message = f"Refused to connect to {shown}: {why}."
        with self.lock:
            self.refused.append(message)
        raise RefusedAddress(message)

    def remember(self, host: Any, infos: list) -> None:
        if isinstance(host, bytes):
            host = host.decode("idna", "replace")
        if isinstance(host, str):
            for info in infos:
                self.names.setdefault(str(info[4][0]), host)

    def refuse(self, message: str) -> None:
        """Record a refusal decided elsewhere (e.g. a downloader that would
        make ffmpeg fetch the network itself, out of this guard's sight)."""
        with self.lock:
            self.refused.append(message)


_guard: Guard | None = None


def install(params: dict[str, Any] | None) -> Guard:
    """Guard every connection this process makes from now on. Idempotent; the
    child calls it first thing, before yt-dlp opens anything."""
    global _guard
    if _guard is not None:
        return _guard
    guard = _guard = Guard(Policy.from_params(params))
    if guard.policy.allow_private:
        return guard
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        guard.check(address, sock.family)
        return original_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        guard.check(address, sock.family)
        return original_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
        infos = original_getaddrinfo(host, *args, **kwargs)
        guard.remember(host, infos)
        return infos

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    return guard


def http_opener() -> request.OpenerDirector:
    """A urllib opener for HTTP(S) only: no file:, ftp: or data: URLs, also
    not as a redirect's target. What a child fetches with it outside yt-dlp
    (a thumbnail, a feed) goes through the guard like everything else."""
    opener = request.OpenerDirector()
    for handler in (
        request.ProxyHandler(),
        request.UnknownHandler(),
        request.HTTPHandler(),
        request.HTTPSHandler(),
        request.HTTPDefaultErrorHandler(),
        request.HTTPRedirectHandler(),
        request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def http_failure(status: int) -> tuple[str, bool]:
    """An HTTP error status as a failure code, and whether it may pass
    (a busy or failing server) so the job is worth retrying."""
    transient = status == 429 or status >= 500
    code = {404: "not_found", 410: "not_found", 401: "forbidden", 403: "forbidden"}.get(
        status, "server_error" if transient else "http_error"
    )
    return code, transient
