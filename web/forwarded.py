"""Who and how a request came, believing X-Forwarded-* only from the proxies WEB_TRUSTED_PROXIES names."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str | None, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies if network.version == ip.version)


def client_address(request: web.Request, proxies: Sequence[Network]) -> str:
    """The TCP peer, or behind trusted proxies the right-most X-Forwarded-For address that is not one of them.

    Each proxy appends the address it saw, so everything left of that is what the client claimed.
    """
    peer = request.remote or "?"
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def scheme(request: web.Request, proxies: Sequence[Network]) -> str:
    """http or https as the browser used it.

    Without trusted proxies, X-Forwarded-Proto is believed and its absence means a direct
    connection (trying the back office on one machine). With them, only they may say https;
    anyone else reached this server directly, over the transport it really used.
    """
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    if not proxies:
        return forwarded or "https"
    if _trusted(request.remote, proxies):
        return forwarded or "http"
    return request.scheme
