"""What an operator sees: a request id on every request, log line and task,
JSON log lines (``LOG_FORMAT=json``), and the counters behind ``/metrics``.

The request id comes from ``X-Request-ID`` when a proxy sent a sane one
(else a new one), is answered in ``X-Request-ID``, is on every log record
(``request_id``) while the request runs, and travels in the headers of every
Celery task the request enqueues (``pmhub/celery.py``), so a task's log lines
carry the id of the request that caused them.

Counters (request latency per view, task outcomes) live in Redis when the
cache is Redis (``CACHE_URL``/``REDIS_URL``): every web process and worker
adds to the same numbers, and a scrape of any one web process reads them
all. Without Redis (the embedded mode) they are kept in the process."""

import contextvars
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter

from django.conf import settings
from django.core.cache import caches

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"

# Request latency buckets (seconds), Prometheus' defaults trimmed to a web app.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS_KEY = "pmhub:obs:requests"
TASKS_KEY = "pmhub:obs:tasks"


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (None outside a request or task)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id,
    the exception if any, and the extra fields a caller passed."""

    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        return json.dumps(entry, ensure_ascii=False)

    converter = time.gmtime


class RequestIdMiddleware:
    """First in the stack: the request id (in and out) and the request's
    latency by view (the URL pattern's name, never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        rid = incoming if _SANE_ID.fullmatch(incoming) else new_request_id()
        request.request_id = rid
        token = request_id_var.set(rid)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = rid
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "unmatched"
        counters().observe_request(
            view, request.method, response.status_code, time.perf_counter() - start
        )
        return response


class Counters:
    """Request and task counters. Fields of a hash: ``view|method|status|b<i>``
    (requests that took at most ``BUCKETS[i]``, or ``inf``), ``…|sum`` and
    ``…|count``; tasks ``name|outcome``."""

    def __init__(self, client=None):
        self.client = client
        self._local: dict[str, Counter] = {REQUESTS_KEY: Counter(), TASKS_KEY: Counter()}
        self._lock = threading.Lock()

    def observe_request(self, view: str, method: str, status: int, seconds: float) -> None:
        prefix = f"{view}|{method}|{status // 100}xx"
        bucket = next((f"b{i}" for i, b in enumerate(BUCKETS) if seconds <= b), "inf")
        self._add(REQUESTS_KEY, {f"{prefix}|{bucket}": 1, f"{prefix}|count": 1}, seconds, prefix)

    def task(self, name: str, outcome: str) -> None:
        self._add(TASKS_KEY, {f"{name}|{outcome}": 1})

    def _add(self, key, increments: dict, seconds: float = 0.0, prefix: str = "") -> None:
        if self.client is None:
            with self._lock:
                self._local[key].update(increments)
                if prefix:
                    self._local[key][f"{prefix}|sum"] += seconds
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for field, n in increments.items():
                pipe.hincrby(key, field, n)
            if prefix:
                pipe.hincrbyfloat(key, f"{prefix}|sum", seconds)
            pipe.execute()
        except Exception:  # an operator's counter never fails a request or a task
            logging.getLogger(__name__).warning("could not count in Redis", exc_info=True)

    def read(self, key: str) -> dict[str, float]:
        if self.client is None:
            with self._lock:
                return dict(self._local[key])
        raw = self.client.hgetall(key)
        return {k.decode(): float(v) for k, v in raw.items()}


_counters: Counters | None = None


def counters() -> Counters:
    """The process's counters: Redis-backed when the default cache is Redis."""
    global _counters
    if _counters is None:
        cache = caches["default"]
        client = None
        if "Redis" in type(cache).__name__ and getattr(settings, "CACHE_URL", ""):
            client = cache._cache.get_client(write=True)
        _counters = Counters(client)
    return _counters


def reset_counters() -> None:
    """Forget the process's counters object (tests that change the cache)."""
    global _counters
    _counters = None
