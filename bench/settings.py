"""Settings of `make bench`: the production module with DEBUG off (no query
log) plus what a benchmark run needs and a deployment supplies otherwise: a
secret key, the test client's host, and static files from their sources (no
collectstatic manifest). bench/run.py selects this module and sets the rest
(database, throttle rates, eager tasks) through the environment."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-outside-make-bench-012345")

from pmhub.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
