import uuid

import pytest


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate-limit counters (sign-up) live in the cache: each test gets a
    cache of its own, so it starts from zero without flushing a shared one."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"accounts-test-{uuid.uuid4().hex}",
        }
    }
