"""One asyncio hub per web process (ASGI): one Redis subscription and one
reader of the log per workspace with open streams, fanning each event out to
every stream of that workspace. 500 streams of one workspace cost one query
per change, not 500.

Each workspace's reader wakes on a Redis message (or a local commit), reads
the final events after its position, and hands each stream the pre-encoded
bytes. Because an event may not be final yet when its commit's message
arrives (an older transaction still running holds the bound back), the
reader looks again shortly after a wake-up and polls every
``LIVE_POLL_SECONDS`` regardless: a lost message only delays a stream."""

import asyncio
import concurrent.futures
import contextlib
import logging

from django.conf import settings
from django.db import connections

from . import feed, publish

log = logging.getLogger(__name__)
RECHECKS = (0.3, 1.5)  # seconds after a wake-up: events held back by an older transaction


class WorkspaceFeed:
    def __init__(self, hub, workspace_id: int):
        self.hub = hub
        self.workspace_id = workspace_id
        self.queues: set[asyncio.Queue] = set()
        self.position: feed.Position | None = None
        self.ready = asyncio.Event()
        self.wake = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self):
        loop = asyncio.get_running_loop()
        try:
            self.position = await self.hub.db(feed.head, self.workspace_id)
        finally:
            self.ready.set()
        rechecks: list[float] = []
        while self.queues:
            timeout = settings.LIVE_POLL_SECONDS
            if rechecks:
                timeout = max(0.0, rechecks[0] - loop.time())
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
                self.wake.clear()
                rechecks = [loop.time() + delay for delay in RECHECKS]
            except TimeoutError:
                if rechecks:
                    rechecks.pop(0)
            try:
                await self.read()
            except Exception:  # the database may be briefly away
                log.warning("live: reading the log failed; retrying", exc_info=True)

    async def read(self):
        while True:
            events = await self.hub.db(feed.read_after, self.workspace_id, self.position)
            for event in events:
                item = (feed.visibility.position_of(event), event.verb, feed.message(event))
                for queue in self.queues:
                    queue.put_nowait(item)
            if events:
                self.position = feed.visibility.position_of(events[-1])
            if len(events) < feed.BATCH:
                return


class Hub:
    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.feeds: dict[int, WorkspaceFeed] = {}
        # One thread and one database connection for every read of the hub.
        self.executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="live-hub")
        self.listener = None
        publish.local.listeners.append(self._notify_threadsafe)
        if settings.LIVE_PUBLISH and publish.redis_url():
            self.listener = self.loop.create_task(self.listen())

    async def db(self, func, *args):
        def call():
            feed.fresh_connection()
            return func(*args)

        return await self.loop.run_in_executor(self.executor, call)

    def _notify_threadsafe(self, workspace_ids):
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self.loop.call_soon_threadsafe(self.notify, workspace_ids)

    def notify(self, workspace_ids):
        for ws in workspace_ids:
            current = self.feeds.get(ws)
            if current is not None:
                current.wake.set()

    async def listen(self):
        import redis.asyncio as aioredis

        delay = 1.0
        while True:
            try:
                client = aioredis.Redis.from_url(publish.redis_url())
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(publish.CHANNEL_PREFIX + "*")
                    delay = 1.0
                    async for msg in pubsub.listen():
                        if msg.get("type") != "pmessage":
                            continue
                        tail = msg["channel"][len(publish.CHANNEL_PREFIX) :]
                        if tail.isdigit():
                            self.notify((int(tail),))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: streams poll meanwhile
                log.warning("live: Redis subscription lost; retrying in %.0f s", delay)
                # Whatever was published meanwhile is found by reading the log.
                self.notify(list(self.feeds))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def attach(self, workspace_id: int) -> tuple[asyncio.Queue, feed.Position]:
        """A queue of the workspace's events from now on, and the position
        "now" stands at (events at or below it are not in the queue)."""
        current = self.feeds.get(workspace_id)
        if current is None or current.task.done():
            current = self.feeds[workspace_id] = WorkspaceFeed(self, workspace_id)
        queue: asyncio.Queue = asyncio.Queue()
        current.queues.add(queue)
        await current.ready.wait()
        return queue, current.position or feed.START

    def detach(self, workspace_id: int, queue: asyncio.Queue) -> None:
        current = self.feeds.get(workspace_id)
        if current is None:
            return
        current.queues.discard(queue)
        if not current.queues:
            current.wake.set()  # its reader notices nobody listens and ends
            del self.feeds[workspace_id]

    async def close(self) -> None:
        """Stop listening and give the reader's database connection back."""
        if self.listener is not None:
            self.listener.cancel()
        publish.local.listeners.remove(self._notify_threadsafe)
        await self.loop.run_in_executor(self.executor, connections.close_all)
        self.executor.shutdown(wait=True)
        _hubs.pop(id(self.loop), None)


_hubs: dict[int, Hub] = {}


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under uvicorn)."""
    loop = asyncio.get_running_loop()
    current = _hubs.get(id(loop))
    if current is None or current.loop is not loop:
        current = _hubs[id(loop)] = Hub()
    return current
