"""Production's ASGI entry (pmhub/asgi.py): the workspace stream is answered
by pmhub/live/asgi.py (no Django request thread held per stream), with the
view's rules: members only, positions checked, every change sent; every
other path still reaches Django."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.test import Client

from pmhub.asgi import application
from pmhub.live.hub import get_hub
from tests.backlog.factories import make_item

pytestmark = pytest.mark.django_db(transaction=True)


def scope(path, *, cookie="", query=b"", method="GET", headers=()):
    raw = [(b"host", b"testserver"), *headers]
    if cookie:
        raw.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": raw,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }


def session_of(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def call(app_scope, *, until=None, then=None):
    """Run the app until ``until(messages)`` holds (then disconnect)."""
    messages, disconnect = [], asyncio.Event()

    async def receive():
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        messages.append(message)

    task = asyncio.ensure_future(application(app_scope, receive, send))
    for _ in range(600):
        if task.done() or (until and until(messages)):
            break
        if then and messages and await sync_to_async(then)(list(messages)):
            then = None
        await asyncio.sleep(0.05)
    disconnect.set()
    await asyncio.wait_for(task, 10)
    return messages


def body(messages):
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


def run(coro):
    async def wrapped():
        try:
            return await coro
        finally:
            await get_hub().close()
            await sync_to_async(connections.close_all)()

    return asyncio.run(wrapped())


def test_strangers_and_bad_positions_are_refused(workspace, pm, stranger):
    path = f"/w/{workspace.slug}/live/"
    got = run(call(scope(path, cookie=session_of(stranger))))
    assert got[0]["status"] == 404
    assert run(call(scope(path)))[0]["status"] == 404
    cookie = session_of(pm)
    assert run(call(scope(path, cookie=cookie, query=b"since=abc")))[0]["status"] == 400
    assert run(call(scope(path, cookie=cookie, query=b"x=1")))[0]["status"] == 400
    assert run(call(scope(path, cookie=cookie, method="POST")))[0]["status"] == 405


def test_a_member_gets_hello_then_each_change(workspace, product, pm):
    cookie = session_of(pm)
    made = {}

    def write(messages):
        if b"event: hello" in body(messages):
            made["item"] = make_item(product, pm, title="Through ASGI")
            return True
        return False

    async def scenario():
        return await call(
            scope(f"/w/{workspace.slug}/live/", cookie=cookie),
            then=lambda messages: write(messages),
            until=lambda messages: b"event: change" in body(messages),
        )

    got = run(scenario())
    assert got[0]["status"] == 200
    assert (b"content-type", b"text/event-stream") in got[0]["headers"]
    text = body(got).decode()
    data = json.loads(text.split("event: change\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["id"] == made["item"].pk


def test_other_paths_reach_django(workspace):
    # A path that needs no database: the WSGI pool's threads keep their
    # connections (as a WSGI server's do), which a test database must not see.
    got = run(call(scope("/no-such-page/")))
    assert got[0]["status"] == 404
