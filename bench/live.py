"""Live suite of `make bench` (``--suite live``): one ASGI web process
(uvicorn, the worker class production runs) holding 500 open Server-Sent
Events streams of one workspace; this process edits an item and every
stream must show the change within 2 s (p95). Also: the web process's memory
per idle stream, and what publishing the wake-up costs a PATCH of an item
(against the same request with publishing off, interleaved).

Needs Redis (``LIVE_REDIS_URL``, else ``REDIS_URL``, else
``redis://127.0.0.1:6379/0``): the edit is committed here and reaches the
web process through pub/sub, as a write from another web process or a
worker does."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from .core import interleaved, ms, p50

STREAMS = 500
EDITS = 5
TARGET_SECONDS = 2.0
MEMORY_TARGET_KB = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _start_server(port: int, redis_url: str):
    env = {**os.environ, "LIVE_REDIS_URL": redis_url, "LIVE_PUBLISH": "true"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "pmhub.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the ASGI server did not start")


class Streams:
    """``count`` raw HTTP/1.1 SSE clients in one asyncio loop (a thread of its
    own), recording when each sees each version of the item."""

    def __init__(self, port, path, cookie, item_id, count):
        self.port, self.path, self.cookie, self.item_id = port, path, cookie, item_id
        self.count = count
        self.hello = 0
        self.failed = 0
        self.seen: dict[int, list[float]] = {}
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.tasks = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _one(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        writer.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: sessionid={self.cookie}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            with self.lock:
                self.failed += 1
            writer.close()
            return
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        event = b""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                    if event == b"hello":
                        with self.lock:
                            self.hello += 1
                elif line.startswith(b"data: ") and event == b"change":
                    data = json.loads(line[6:])
                    if data.get("id") == self.item_id:
                        now = time.perf_counter()
                        with self.lock:
                            self.seen.setdefault(data["version"], []).append(now)
        finally:
            writer.close()

    def open(self):
        async def start():
            for _ in range(self.count):
                self.tasks.append(asyncio.ensure_future(self._one()))
                await asyncio.sleep(0.002)  # a gentle ramp: no accept-queue overflow

        asyncio.run_coroutine_threadsafe(start(), self.loop).result()

    def wait(self, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition():
                    return True
            time.sleep(0.01)
        return False

    def close(self):
        async def stop():
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def _percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(report, data, args):
    from django.conf import settings
    from django.test import Client

    from backlog import services
    from backlog.models import Item
    from pmhub.accounts import services as accounts
    from pmhub.activity import tasks
    from pmhub.live import publish

    tasks.dispatch_events.delay = lambda *a, **k: None
    redis_url = (
        os.environ.get("LIVE_REDIS_URL")
        or os.environ.get("REDIS_URL")
        or "redis://127.0.0.1:6379/0"
    )
    settings.LIVE_REDIS_URL = redis_url
    settings.LIVE_PUBLISH = True
    publish._client = None
    user, product, workspace = data["user"], data["product"], data["workspace"]
    item = Item.objects.filter(product=product).order_by("rank").first()
    browser = Client()
    browser.force_login(user)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    port = _free_port()
    print(f"==> live: {STREAMS} streams on one ASGI process (uvicorn), {EDITS} edits")
    server = _start_server(port, redis_url)
    streams = None
    try:
        path = f"/w/{workspace.slug}/live/"
        # Warm the process (imports, the hub, a database connection), then
        # weigh it with no stream open.
        warm = Streams(port, path, cookie, item.pk, 2)
        warm.open()
        warm.wait(lambda: warm.hello >= 2, 30)
        warm.close()
        time.sleep(1.0)
        before_kb = _rss_kb(server.pid)
        streams = Streams(port, path, cookie, item.pk, STREAMS)
        streams.open()
        connected = streams.wait(lambda: streams.hello + streams.failed >= STREAMS, 120)
        time.sleep(2.0)  # idle
        after_kb = _rss_kb(server.pid)
        per_stream_kb = (after_kb - before_kb) / STREAMS
        latencies, missing = [], 0
        for k in range(EDITS):
            item.refresh_from_db()
            version = item.version + 1  # the event carries the version after the edit
            started = time.perf_counter()
            services.update_item(
                user,
                item=item,
                expected_version=item.version,
                fields={"title": f"Live bench edit {k} {time.time():.0f}"},
            )
            streams.wait(lambda v=version: len(streams.seen.get(v, [])) >= streams.hello, 10)
            with streams.lock:
                arrivals = list(streams.seen.get(version, []))
            missing += streams.hello - len(arrivals)
            latencies += [t - started for t in arrivals]
            time.sleep(0.5)
    finally:
        if streams is not None:
            streams.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    p95 = _percentile(latencies, 0.95) if latencies else float("inf")
    report.check(
        f"live: an item edit reaches {STREAMS} open streams (p95)",
        f"{ms(p95):.0f} ms",
        f"≤ {TARGET_SECONDS * 1000:.0f} ms, none missing",
        connected and streams.failed == 0 and missing == 0 and p95 <= TARGET_SECONDS,
        note=(
            f"{streams.hello} streams connected, {streams.failed} refused; {EDITS} edits, "
            f"{len(latencies)} deliveries, {missing} missing; p50 "
            f"{ms(_percentile(latencies, 0.5)) if latencies else 0:.0f} ms, max "
            f"{ms(max(latencies)) if latencies else 0:.0f} ms (from before the write "
            "to the event read by the client)"
        ),
    )
    report.check(
        "live: web process memory per idle stream",
        f"{per_stream_kb:.1f} KB",
        f"≤ {MEMORY_TARGET_KB} KB",
        per_stream_kb <= MEMORY_TARGET_KB,
        note=f"RSS {before_kb:,} KB with none open, {after_kb:,} KB with {STREAMS}",
    )

    print(f"==> live: PATCH with and without publishing ({args.reps} repetitions)")
    _, secret = accounts.create_api_token(user, name="bench-live")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    flip = {"n": 0}

    def patch():
        flip["n"] += 1
        response = api.patch(
            f"/api/v1/items/{item.pk}/",
            {"title": f"Live bench title {flip['n'] % 2}"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def unpublished():
        settings.LIVE_PUBLISH = False
        try:
            patch()
        finally:
            settings.LIVE_PUBLISH = True

    times = interleaved({"on": patch, "off": unpublished}, reps=args.reps, warmup=3)
    on, without = p50(times["on"]), p50(times["off"])
    report.ratio(
        "live: PATCH of an item, publishing on",
        on,
        without,
        1.05,
        baseline_name="the same request with publishing off",
        note=f"publishing adds {ms(on - without):.2f} ms (one Redis PUBLISH after commit)",
    )
    report.facts["live"] = {
        "streams": STREAMS,
        "p95_ms": ms(p95),
        "p50_ms": ms(_percentile(latencies, 0.5)) if latencies else None,
        "missing": missing,
        "kb_per_idle_stream": round(per_stream_kb, 1),
        "patch_publish_ratio": round(on / without, 4) if without else None,
    }
