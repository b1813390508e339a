"""The project's Redis cache backend (pmhub.cache) against a real Redis."""

import os
import uuid

import pytest

from pmhub.cache import RedisCache
from tests.conftest import require

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_cache():
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "REDIS_URL not set")
    backend = RedisCache(url, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})
    yield backend
    backend.delete_many(["a", "b", "n"])


def test_reuses_one_client_per_pool(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_reads_and_writes_like_djangos_backend(redis_cache):
    assert redis_cache.get("a") is None
    redis_cache.set("a", {"x": (1, 2)}, 30)
    assert redis_cache.get("a") == {"x": (1, 2)}
    assert redis_cache.add("a", "other") is False
    assert redis_cache.incr(redis_cache.set("n", 1) or "n") == 2
    redis_cache.set_many({"a": 1, "b": 2})
    assert redis_cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
    redis_cache.delete("a")
    assert redis_cache.get("a") is None
