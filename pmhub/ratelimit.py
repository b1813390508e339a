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
    cache_key = f"rl:{scope}:{key}"
    if cache.add(cache_key, 1, timeout=window):
        hits = 1
    else:
        try:
            hits = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window)
            hits = 1
    if hits > count:
        raise RateLimited(retry_after=window)
