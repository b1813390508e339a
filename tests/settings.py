"""Settings of the test suite (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

The production module, ``pmhub.settings``, knows nothing of tests: this one
supplies what a test run needs before importing it (a secret key), then
overrides what differs from a deployment. Every override still yields to the
environment where the suite is meant to be steered from outside (CI points
``DATABASE_URL``, ``REDIS_URL`` and ``CACHE_URL`` at real services; the
integration tests' Celery workers run with this module and
``CELERY_TASK_ALWAYS_EAGER=false``).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-never-used-outside-the-test-suite-0123")

from pmhub.settings import *  # noqa: F403
from pmhub.settings import REST_FRAMEWORK, env_bool, env_int, env_list, env_str

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Links in emails and share URLs come from the request unless a test sets it.
SITE_URL = env_str("SITE_URL", "").rstrip("/")

# Fast hashing: tests create many users with passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Uploaded imports and background exports go to a directory of this run, not
# the checkout's media/ (integration tests' workers share it through the env).
MEDIA_ROOT = env_str("MEDIA_ROOT", "") or tempfile.mkdtemp(prefix="pmhub-test-media-")
os.environ.setdefault("MEDIA_ROOT", MEDIA_ROOT)

# Static files from their sources (no collectstatic manifest in a checkout).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# The test client and the browser tests' live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_PROXY_SSL_HEADER = None

# Throttling is tested with its own tight rates; other tests must not trip it.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "anon": env_str("API_THROTTLE_ANON", "6000/min"),
    },
}

# A per-process memory cache unless CACHE_URL is set: a test clearing the
# cache must never flush the Redis database a real worker's broker uses.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "pmhub.cache.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run inline, except in the integration tests' workers (env "false").
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
LOGGING["loggers"]["celery.app.trace"]["level"] = (  # noqa: F405
    "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"
)

EMAIL_BACKEND_PATH = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": {}}}

# Sign-in throttling is tested with the production limit (tests/accounts/
# test_throttling.py); other tests (schemathesis sends hundreds of invalid
# tokens from one address) must not trip it.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 100_000)

# Live streams of the browser tests' server read the log when this process
# commits (every write of a test does); a timed poll would read the test
# database between tests, while it is flushed.
LIVE_POLL_SECONDS = 600
