"""The API's throttles: fixed-window counters in the cache.

DRF's ``SimpleRateThrottle`` keeps a list of request timestamps per client
and reads and writes the whole list on every request: at 1 200/min that is a
~19 KB value through Redis per request, and the cost grows with the rate.
These count instead: one atomic ``INCR`` on a key per client and window
(``pmhub.ratelimit.increment``), O(1) whatever the rate, and shared by every
web process when the cache is Redis. A window is aligned to the clock
(``[k·duration, (k+1)·duration)``), so ``Retry-After`` is the time to its end;
a client may fit up to twice the rate into the two seconds around a window's
edge, which is the usual price of a fixed window."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from pmhub.ratelimit import increment


class FixedWindowMixin:
    """``allow_request`` and ``wait`` of a ``SimpleRateThrottle``, counted."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = int(self.timer())
        start = now - now % self.duration
        self.wait_seconds = start + self.duration - now
        count = increment(f"{self.key}:{start}", self.duration + 1)
        return count <= self.num_requests

    def wait(self):
        return self.wait_seconds


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    """Requests per signed-in user (``API_THROTTLE_USER``)."""


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    """Requests per anonymous client address (``API_THROTTLE_ANON``)."""
