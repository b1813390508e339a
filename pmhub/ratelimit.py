"""Fixed-window counters in the cache for what anonymous visitors may do
(portal feedback and votes, sign-up, shared-page passwords): at most
``count`` hits per ``window`` seconds per key. One implementation, so every
public door counts the same way and answers the same 429.

Counters live in the default cache: shared by every web process when the
cache is Redis (``CACHE_URL``/``REDIS_URL``), per process in the embedded
mode."""

from django.core.cache import cache

from pmhub.errors import DomainError


class RateLimited(DomainError):
    """Too many requests; try again later."""

    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int = 60):
        super().__init__(message or "Too many submissions; please try again later.")
        self.retry_after = retry_after


def hit(scope: str, key: str, limit: tuple[int, int]) -> None:
    """Count one hit on ``scope:key`` against ``limit`` = (hits, seconds);
    RateLimited when it is beyond. The window starts with the first hit and
    later hits do not extend it."""
    count, window = limit
    if increment(f"rl:{scope}:{key}", window) > count:
        raise RateLimited(retry_after=window)


def increment(cache_key: str, timeout: int) -> int:
    """Add one to the counter ``cache_key`` (created with ``timeout``
    seconds to live) and return it: one atomic cache round trip
    (two when the counter is new)."""
    if cache.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1
