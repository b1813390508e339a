"""Settings of `make bench`: the production module with DEBUG off (no query
log) plus what a benchmark run needs and a deployment supplies otherwise: a
secret key, plain HTTP for the test client, and static files from their sources (no
collectstatic manifest). bench/run.py selects this module and sets the rest
(database, throttle rates, eager tasks) through the environment."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-outside-make-bench-012345")

from pmhub.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The test client speaks plain HTTP to the application (as the baselines do).
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_PROXY_SSL_HEADER = None
