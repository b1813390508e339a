"""The client's address, the one key every abuse limit uses (sign-in
throttling through django-axes, the API's anonymous throttle, the portal,
shared-page passwords, sign-up).

Behind a load balancer ``REMOTE_ADDR`` is the balancer. ``TRUSTED_PROXY_COUNT``
says how many proxies in front of PMHub append to ``X-Forwarded-For``; the
client is the entry that the outermost trusted proxy appended, counted from
the right, so whatever a client writes into the header itself is ignored.
The default, 0, trusts no header at all."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (see the module docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        # The request did not pass through every trusted proxy: trust nothing.
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote
