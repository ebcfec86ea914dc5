"""The caller's network address, for counting failed sign-ins and token attempts per address.

Behind the reverse proxy every request comes from the proxy's address, so throttling on
REMOTE_ADDR alone would lump all partners together. The proxy's header is trusted only when
TRUSTED_PROXY_HEADER names it: a header anyone could send is otherwise ignored (no spoofing).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def client_address(request) -> str:
    """REMOTE_ADDR, or the address the outermost of TRUSTED_PROXY_COUNT proxies saw.

    Each proxy appends the address it received the request from, so with N trusted proxies the
    client is the N-th entry from the right; anything further left was written by the client. A
    request that did not pass through every trusted proxy (header missing or short) or whose entry
    is not an IP address is counted under REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote
    hops = [hop.strip() for hop in request.META.get(_meta_key(header), "").split(",")]
    hops = [hop for hop in hops if hop]
    count = settings.TRUSTED_PROXY_COUNT
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
