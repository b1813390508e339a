"""The body of a live stream, as an async iterator (ASGI: the hub) or a sync
one (WSGI: ``make run``'s threaded runserver, one thread per stream, polling
the log and woken by commits in this process).

Both follow one rule: replay from the log what the client has not seen
(``since``: its ``Last-Event-ID`` or the position its page was rendered at),
then pass on new events, skipping any at or below the last position sent, so
every change arrives exactly once. A ``member.*`` event re-checks the
viewer's membership: a removed member's stream ends with ``revoked``, a
changed role is announced with ``role``."""

import asyncio
import time

from django.conf import settings
from django.db import connection

from pmhub.accounts.models import Membership

from . import feed, publish
from .hub import get_hub

KEEPALIVE_SECONDS = 15
# A client that falls this far behind is told to reload instead.
MAX_QUEUED = 5000


def role_of(workspace_id: int, user_id: int) -> str | None:
    return (
        Membership.objects.filter(workspace_id=workspace_id, user_id=user_id)
        .values_list("role", flat=True)
        .first()
    )


class Viewer:
    """Who a stream is for, and what follows from a ``member.*`` event."""

    def __init__(self, workspace_id: int, user_id: int, role: str):
        self.workspace_id, self.user_id, self.role = workspace_id, user_id, role

    def recheck(self, role: str | None) -> bytes | None:
        if role is None:
            return feed.control("revoked", {})
        if role != self.role:
            self.role = role
            return feed.control("role", {"role": role})
        return None


def _hello(viewer: Viewer, position: feed.Position) -> bytes:
    retry = b"retry: 3000\n"
    return retry + feed.control("hello", {"role": viewer.role}, position)


async def stream_async(viewer: Viewer, since: feed.Position | None, *, lifetime: float):
    hub = get_hub()
    loop = asyncio.get_running_loop()
    ends = loop.time() + lifetime
    queue, now = await hub.attach(viewer.workspace_id)
    try:
        last = since if since is not None else now
        yield _hello(viewer, last)
        if since is not None:
            limit = feed.REPLAY_LIMIT + 1
            replay = await hub.db(feed.read_after, viewer.workspace_id, since, limit)
            if len(replay) > feed.REPLAY_LIMIT:
                yield feed.control("reset", {"reason": "too far behind"})
                return
            for event in replay:
                chunk = await _pass(hub, viewer, event.verb, feed.message(event))
                yield chunk
                last = feed.visibility.position_of(event)
                if chunk.startswith(b"event: revoked"):
                    return
        while loop.time() < ends:
            wait = min(KEEPALIVE_SECONDS, max(0.0, ends - loop.time()))
            try:
                position, verb, data = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                yield feed.KEEPALIVE
                continue
            if queue.qsize() > MAX_QUEUED:
                yield feed.control("reset", {"reason": "too far behind"})
                return
            if position <= last:
                continue
            last = position
            chunk = await _pass(hub, viewer, verb, data)
            yield chunk
            if chunk.startswith(b"event: revoked"):
                return
    finally:
        hub.detach(viewer.workspace_id, queue)


async def _pass(hub, viewer: Viewer, verb: str, data: bytes) -> bytes:
    if verb.startswith("member."):
        notice = viewer.recheck(await hub.db(role_of, viewer.workspace_id, viewer.user_id))
        if notice is not None:
            return notice if notice.startswith(b"event: revoked") else data + notice
    return data


def stream_sync(viewer: Viewer, since: feed.Position | None, *, lifetime: float):
    """The threaded server's stream: read the log when this process commits
    (``publish.local``) and every ``LIVE_POLL_SECONDS`` otherwise (another
    process's writes). ``lifetime`` ends it so the thread is given back; the
    browser reconnects with its ``Last-Event-ID``."""
    last = since if since is not None else feed.head(viewer.workspace_id)
    yield _hello(viewer, last)
    started = quiet_since = time.monotonic()
    generation = publish.local.generation(viewer.workspace_id)
    while time.monotonic() - started < lifetime:
        events = feed.read_after(viewer.workspace_id, last, feed.REPLAY_LIMIT + 1)
        if len(events) > feed.REPLAY_LIMIT:
            yield feed.control("reset", {"reason": "too far behind"})
            return
        for event in events:
            last = feed.visibility.position_of(event)
            data = feed.message(event)
            if event.verb.startswith("member."):
                notice = viewer.recheck(role_of(viewer.workspace_id, viewer.user_id))
                if notice is not None and notice.startswith(b"event: revoked"):
                    yield notice
                    return
                data += notice or b""
            yield data
            quiet_since = time.monotonic()
        if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield feed.KEEPALIVE
            quiet_since = time.monotonic()
        # Hold no database connection while waiting (the server may be
        # waiting for it to close, and a poll reconnects cheaply); a test's
        # transaction keeps its own.
        if not connection.in_atomic_block:
            connection.close()
        wait = min(settings.LIVE_POLL_SECONDS, max(0.0, lifetime - (time.monotonic() - started)))
        woke = publish.local.wait(viewer.workspace_id, generation, wait)
        if woke != generation:
            generation = woke
            time.sleep(0.05)  # let the committing request finish; then read


# --- watching something derived from the log (the shared roadmap page) ------------------------
# ``check()`` (sync, may query) answers "changed", "gone" or None; it runs
# whenever the workspace's log grows and every LIVE_POLL_SECONDS. Nothing of
# the events themselves is passed on: the page refetches itself through its
# own read path, so it shows only what it is allowed to.


def _verdict(answer: str | None) -> bytes | None:
    if answer == "changed":
        return feed.control("changed", {})
    if answer == "gone":
        return feed.control("revoked", {})
    return None


async def watch_async(workspace_id: int, check, *, lifetime: float):
    hub = get_hub()
    loop = asyncio.get_running_loop()
    ends = loop.time() + lifetime
    queue, _now = await hub.attach(workspace_id)
    try:
        yield b"retry: 3000\n" + feed.control("hello", {})
        while loop.time() < ends:
            answer = await hub.db(check)
            chunk = _verdict(answer)
            if chunk is not None:
                yield chunk
                if answer == "gone":
                    return
            wait = min(settings.LIVE_POLL_SECONDS, max(0.0, ends - loop.time()))
            try:
                await asyncio.wait_for(queue.get(), wait)
                while not queue.empty():
                    queue.get_nowait()
            except TimeoutError:
                yield feed.KEEPALIVE
    finally:
        hub.detach(workspace_id, queue)


def watch_sync(workspace_id: int, check, *, lifetime: float):
    yield b"retry: 3000\n" + feed.control("hello", {})
    started = time.monotonic()
    generation = publish.local.generation(workspace_id)
    while time.monotonic() - started < lifetime:
        answer = check()
        chunk = _verdict(answer)
        if chunk is not None:
            yield chunk
            if answer == "gone":
                return
        else:
            yield feed.KEEPALIVE
        if not connection.in_atomic_block:
            connection.close()
        wait = min(settings.LIVE_POLL_SECONDS, max(0.0, lifetime - (time.monotonic() - started)))
        generation = publish.local.wait(workspace_id, generation, wait)
