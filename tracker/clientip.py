"""The address of the client behind a request, for lockouts and rate limits.

With no reverse proxy (``TRUSTED_PROXY_COUNT=0``) it is the connection's own
address; X-Forwarded-For is ignored, since anyone can send one. Behind N
proxies that each append the address they received the request from, the
client is the N-th entry from the right: the one the outermost trusted proxy
wrote. Entries further left came with the request and are never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address as a string ("" when the request carries none)."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < proxies:
        # Fewer entries than trusted proxies: the request did not come through all
        # of them, so none of its entries can be trusted.
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
