"""Sending one webhook request safely.

SSRF rule: the URL's host is resolved once; the request is refused when any
of its addresses is loopback, private, link-local, multicast, reserved,
unspecified, not globally routable, or an IPv6 form that embeds such an IPv4
address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible, 6to4 ``2002::/16``,
Teredo, NAT64 ``64:ff9b::/96``), unless the address is inside one of the
networks of ``WEBHOOK_ALLOW_NETWORKS``. The connection then goes to the very
address that was checked (urllib3 connection pool opened on the IP), with
the URL's host in the ``Host`` header and, for https, as the TLS SNI name and
the name the certificate is verified against. There is no second lookup, so
a DNS answer that changes between check and connect (DNS rebinding) cannot
redirect the request.

No redirects are followed (a 3xx is a failed attempt), connect and read
timeouts come from settings, and only the first ``RESPONSE_CAPTURE`` bytes of
the answer are read.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

RESPONSE_CAPTURE = 1024
USER_AGENT = "PMHub-Webhooks/1"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The URL's host resolves to an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (lower case), for Host and SNI
    port: int
    path: str  # path and query
    address: str  # the checked IP the connection goes to


@dataclass
class Result:
    status: int | None  # None: no HTTP answer (timeout, refused, TLS error)
    body: bytes
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def validate_url(url: str, *, check_literal: bool = True) -> str:
    """The checks made when an endpoint is saved (the address is checked again
    at every delivery): http or https, a host, no credentials, a valid port."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError({"url": f"This URL is not valid ({exc})."}) from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": "Use an http:// or https:// URL."})
    if not parts.hostname:
        raise ValidationError({"url": "The URL needs a host name."})
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            {"url": "Leave credentials out of the URL; verify the signature instead."}
        )
    if port == 0:
        raise ValidationError({"url": "Port 0 cannot be reached."})
    literal = _literal(parts.hostname)
    if check_literal and literal is not None and not is_allowed(literal):
        raise ValidationError(
            {"url": f"{literal} is not a public address: webhooks cannot reach it."}
        )
    return url


def _literal(host: str):
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


@cache
def _allowed_networks(raw: tuple[str, ...]):
    return tuple(ipaddress.ip_network(n, strict=False) for n in raw)


def allowed_networks():
    return _allowed_networks(tuple(settings.WEBHOOK_ALLOW_NETWORKS))


def _embedded_ipv4(ip: ipaddress.IPv6Address):
    """The IPv4 address an IPv6 address carries, if it is one of the forms
    that route to IPv4 (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def is_forbidden(ip) -> bool:
    """Whether webhooks must not connect to ``ip`` (before the allow-list)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and is_forbidden(inner):
            return True
        if ip.scope_id:
            return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def is_allowed(ip) -> bool:
    if any(ip.version == net.version and ip in net for net in allowed_networks()):
        return True
    return not is_forbidden(ip)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (one lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_target(url: str) -> Target:
    """Resolve the URL's host once and check every address; the Target names
    the address to connect to. Raises UnsafeTarget or ValidationError."""
    url = validate_url(url, check_literal=False)
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"{host} could not be resolved ({exc})") from exc
    if not addresses:
        raise UnsafeTarget(f"{host} has no address")
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%")[0])
        if not is_allowed(ip):
            raise UnsafeTarget(f"{host} resolves to {ip}, which is not a public address")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0].split("%")[0])


# One small pool per (scheme, address, port, host) and process, so a worker
# delivering many events to one receiver keeps its connection alive.
_POOLS: dict[tuple, urllib3.HTTPConnectionPool] = {}


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    key = (target.scheme, target.address, target.port, target.host)
    pool = _POOLS.get(key)
    if pool is None:
        timeout = urllib3.Timeout(
            connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT
        )
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                timeout=timeout,
                maxsize=1,
                retries=False,
                cert_reqs=ssl.CERT_REQUIRED,
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                target.address, target.port, timeout=timeout, maxsize=1, retries=False
            )
        if len(_POOLS) > 256:
            for old in _POOLS.values():
                old.close()
            _POOLS.clear()
        _POOLS[key] = pool
    return pool


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def post(target: Target, body: bytes, headers: dict[str, str]) -> Result:
    """POST ``body`` to the checked address; never raises for network errors."""
    headers = {
        "Host": _host_header(target),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    started = time.perf_counter()
    try:
        response = _pool(target).urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        latency = int((time.perf_counter() - started) * 1000)
        return Result(None, b"", latency, error=_describe(exc))
    try:
        captured, complete = _read_capped(response, started)
    except urllib3.exceptions.HTTPError as exc:
        response.close()
        latency = int((time.perf_counter() - started) * 1000)
        return Result(response.status, b"", latency, error=_describe(exc))
    if not complete:
        response.close()  # the rest is not read: drop the connection
    response.release_conn()
    latency = int((time.perf_counter() - started) * 1000)
    error = ""
    if 300 <= response.status < 400:
        error = f"Redirect to {response.headers.get('Location', '?')} not followed"
    elif not 200 <= response.status < 300:
        error = f"HTTP {response.status}"
    return Result(response.status, captured, latency, error=error)


def _read_capped(response, started: float) -> tuple[bytes, bool]:
    """The first RESPONSE_CAPTURE bytes of the answer, read for at most the
    read timeout in all (a server dripping bytes cannot hold a worker), and
    whether the whole body was read."""
    deadline = started + settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    captured = b""
    while len(captured) < RESPONSE_CAPTURE:
        chunk = response.read1(RESPONSE_CAPTURE - len(captured))
        if not chunk:
            return captured, True
        captured += chunk
        if time.perf_counter() > deadline:
            return captured, False
    return captured, not response.read(1)


def _describe(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # before its base class
        return f"Could not connect: {str(exc).rsplit(': ', 1)[-1]}"[:500]
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return "Timed out waiting for the answer"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "Timed out connecting"
    text = str(reason or exc)
    return text[:500]
