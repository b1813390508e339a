"""The ASGI application production serves (gunicorn with uvicorn workers, see
docs/deployment.md): the live stream's async view holds no thread per open
page, and every sync view runs as it does under WSGI. ``make run`` keeps the
threaded WSGI development server (one thread per open stream)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
application = get_asgi_application()
