"""The workspace stream served straight from ASGI (``pmhub/asgi.py`` routes
``/w/<workspace>/live/`` here in production).

Django's handler would keep, for every open stream, the request's context
thread (its sync middleware runs there) alive for the life of the stream;
here an open stream is a coroutine and a queue: the session, the user and
the membership are read once on the hub's thread (``django.contrib.auth
.get_user``, so the session's password hash and backend are checked as a
page does), then the same ``streams.stream_async`` body as the Django view
(``views.stream``, which ``make run`` and the tests use) is sent."""

import asyncio
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth import get_user
from django.db import connection
from django.utils.module_loading import import_string

from . import feed, streams
from .hub import get_hub

PATH = re.compile(r"^/w/(?P<slug>[-a-zA-Z0-9_]+)/live/$")


class _SessionRequest:
    """What ``get_user`` needs of a request: its session."""

    def __init__(self, session):
        self.session = session


def _viewer(session_key: str, slug: str) -> streams.Viewer | None:
    from pmhub.accounts.models import Membership

    engine = import_string(settings.SESSION_ENGINE + ".SessionStore")
    user = get_user(_SessionRequest(engine(session_key)))
    if not user.is_authenticated:
        return None
    found = (
        Membership.objects.filter(user=user, workspace__slug=slug)
        .values_list("workspace_id", "role")
        .first()
    )
    return streams.Viewer(found[0], user.pk, found[1]) if found else None


def _viewer_on_hub(session_key, slug):
    try:
        return _viewer(session_key, slug)
    finally:
        connection.close_if_unusable_or_obsolete()


async def _answer(send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def matches(scope) -> bool:
    return scope["type"] == "http" and PATH.match(scope.get("path", "")) is not None


async def stream_app(scope, receive, send):
    slug = PATH.match(scope["path"])["slug"]
    if scope["method"] not in ("GET", "HEAD"):
        return await _answer(send, 405, "Method not allowed.")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if set(query) - {"since"}:
        return await _answer(send, 400, "Unknown parameter.")
    given = headers.get("last-event-id") or (query.get("since") or [""])[0]
    since = feed.decode(given)
    if given and since is None:
        return await _answer(send, 400, "since: not a position this stream wrote.")
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: nobody signed in
        cookie = SimpleCookie()
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    hub = get_hub()
    viewer = await hub.db(_viewer_on_hub, morsel.value if morsel else None, slug)
    if viewer is None:
        return await _answer(send, 404, "No such workspace.")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream"),
                (b"cache-control", b"no-cache, no-transform"),
                (b"x-accel-buffering", b"no"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    body = streams.stream_async(viewer, since, lifetime=settings.LIVE_STREAM_SECONDS)

    async def pump():
        async for chunk in body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def gone():
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping, waiting = asyncio.ensure_future(pump()), asyncio.ensure_future(gone())
    try:
        await asyncio.wait({pumping, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, waiting):
            task.cancel()
        await asyncio.gather(pumping, waiting, return_exceptions=True)
        await body.aclose()
    if not waiting.cancelled() and waiting.done():
        return
    await send({"type": "http.response.body", "body": b"", "more_body": False})
