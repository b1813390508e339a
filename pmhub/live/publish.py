"""After a commit that recorded events, wake up the streams of the workspace.

``changed`` is the one hook the event log calls (``pmhub/activity/recording.py``).
It sends no event data: the message only says "the log of workspace N grew";
the streams read the events from the log. So a lost message delays a stream
(the hub also polls) and never loses or repeats a change.

- In this process: a condition variable wakes the threaded (WSGI) streams and
  the asyncio hub, if one runs here.
- Across processes: Redis pub/sub, channel ``pmhub:live:<workspace id>``,
  when ``LIVE_REDIS_URL`` (default ``REDIS_URL``) is set and ``LIVE_PUBLISH`` is on.
"""

import logging
import threading

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "pmhub:live:"

_client = None
_client_lock = threading.Lock()


def channel(workspace_id: int) -> str:
    return f"{CHANNEL_PREFIX}{workspace_id}"


def redis_url() -> str:
    return settings.LIVE_REDIS_URL


def _redis():
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                import redis

                _client = redis.Redis.from_url(
                    redis_url(), socket_timeout=0.5, socket_connect_timeout=0.5
                )
    return _client


class LocalWake:
    """Process-local wake-ups: a generation counter per workspace under one
    condition, so a waiting stream sees every bump since it last looked."""

    def __init__(self):
        self._cond = threading.Condition()
        self._generation: dict[int, int] = {}
        self.listeners: list = []  # callables (the asyncio hub's thread-safe notify)

    def generation(self, workspace_id: int) -> int:
        with self._cond:
            return self._generation.get(workspace_id, 0)

    def bump(self, workspace_ids) -> None:
        with self._cond:
            for ws in workspace_ids:
                self._generation[ws] = self._generation.get(ws, 0) + 1
            self._cond.notify_all()
        for listener in list(self.listeners):
            listener(workspace_ids)

    def wait(self, workspace_id: int, seen: int, timeout: float) -> int:
        """Block until the workspace's generation passes ``seen`` or ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation.get(workspace_id, 0) != seen, timeout)
            return self._generation.get(workspace_id, 0)


local = LocalWake()


def _send(workspace_ids: frozenset) -> None:
    local.bump(workspace_ids)
    if not (settings.LIVE_PUBLISH and redis_url()):
        return
    try:
        client = _redis()
        for ws in workspace_ids:
            client.publish(channel(ws), b"1")
    except Exception:  # a live update is never worth failing a write
        log.warning("live: could not publish to Redis; streams catch up by polling", exc_info=True)


def changed(*workspace_ids: int) -> None:
    """Events of these workspaces were recorded in the current transaction:
    wake their streams once it commits (nothing happens on a rollback)."""
    if workspace_ids:
        transaction.on_commit(lambda ids=frozenset(workspace_ids): _send(ids))
