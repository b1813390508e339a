"""The client's address, the one key every abuse limit uses (sign-in
throttling through django-axes, the API's anonymous throttle, the portal,
shared-page passwords, sign-up).

Behind a load balancer ``REMOTE_ADDR`` is the balancer. ``TRUSTED_PROXY_COUNT``
says how many proxies in front of PMHub append to ``X-Forwarded-For``; the
client is the entry that the outermost trusted proxy appended, counted from
the right, so whatever a client writes into the header itself is ignored.
The default, 0, trusts no header at all.

The answer is always a valid IP address (django-axes stores it in an
``inet`` column): a request without a usable address (a unix-socket server
with no trusted proxy, a test client) counts as UNKNOWN, all such requests
together."""

import ipaddress

from django.conf import settings

UNKNOWN = "0.0.0.0"


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (see the module docstring)."""
    remote = _address(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        # The request did not pass through every trusted proxy: trust nothing.
        return remote
    return _address(forwarded[-count]) or remote
