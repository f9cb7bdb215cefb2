"""core.cache: Django's Redis cache with one Redis client per pool, on the machine's Redis."""

from __future__ import annotations

import os
import secrets
import threading

import pytest

from core.cache import RedisCache, ReusingRedisCacheClient

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def redis_cache() -> RedisCache:
    # A prefix of its own, so nothing else using this Redis database is touched.
    return RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{secrets.token_hex(4)}"})


def test_every_operation_uses_the_same_redis_client(redis_cache: RedisCache) -> None:
    client = redis_cache._cache.get_client()

    redis_cache.set("k", 1, 30)

    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_values_round_trip_as_with_djangos_backend(redis_cache: RedisCache) -> None:
    redis_cache.set("target", {"status": "live", "labels": frozenset({1, 2})}, 30)
    redis_cache.set("count", 3, 30)

    assert redis_cache.get("target") == {"status": "live", "labels": frozenset({1, 2})}
    assert redis_cache.incr("count") == 4
    assert redis_cache.get_many(["target", "count", "absent"]) == {
        "target": {"status": "live", "labels": frozenset({1, 2})},
        "count": 4,
    }
    redis_cache.delete("target")
    assert redis_cache.get("target") is None


def test_threads_share_the_client(redis_cache: RedisCache) -> None:
    results: dict[int, object] = {}

    def work(number: int) -> None:
        for step in range(20):
            redis_cache.set(f"t{number}", step, 30)
        results[number] = redis_cache.get(f"t{number}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {n: 19 for n in range(8)}
    assert isinstance(redis_cache._cache, ReusingRedisCacheClient)
    assert len(redis_cache._cache._clients) == 1
