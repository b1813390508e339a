"""The ASGI application production serves (gunicorn with uvicorn workers, see
docs/deployment.md).

The workspace live stream (``/w/<workspace>/live/``) is answered by
``pmhub/live/asgi.py`` and the shared page's (``/s/<token>/live/``) by
Django's ASGI handler: an open stream is a coroutine waiting on the stream
hub, not a thread. Every other request goes to the WSGI application
(``pmhub/wsgi.py``) on a thread pool (a2wsgi), exactly as under a WSGI
server: same threads, same persistent database connections, so the sync API
and pages are unaffected. ``make run`` keeps the threaded WSGI development
server (one thread per open stream)."""

import os
import re

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
django_asgi = get_asgi_application()

from pmhub.live import asgi as live_asgi  # noqa: E402 (needs the apps loaded)

django_wsgi = WSGIMiddleware(
    get_wsgi_application(), workers=int(os.environ.get("WEB_THREADS", "10"))
)

SHARED_STREAM = re.compile(r"^/s/[^/]+/live/$")


async def application(scope, receive, send):
    if live_asgi.matches(scope):
        return await live_asgi.stream_app(scope, receive, send)
    if scope["type"] == "http" and SHARED_STREAM.match(scope.get("path", "")):
        return await django_asgi(scope, receive, send)
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    return await django_wsgi(scope, receive, send)
