"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new
``redis.Redis`` for every cache operation; redis-py 5 and later fill a table of
some 150 response callbacks in that constructor, which cost about 0.2 ms of CPU
per ``cache.get`` on the benchmark machine, about a seventh of the Python work
of a trigger call (three cache reads: the API key, the campaign, its labels;
docs/performance.md). A ``redis.Redis`` only borrows connections from its pool
per command, so one instance serves every thread of a process.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    """Keeps the ``redis.Redis`` of each connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # django-stubs leave out the private helpers used here
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Django builds a server's pool unlocked: two threads starting together
            # would each make one (and a client for it). The first use is locked.
            with self._lock:
                client = self._clients.get(index)
                if client is None:
                    pool = django_client._get_connection_pool(write)
                    client = self._clients[index] = django_client._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with ``ReusingRedisCacheClient``."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
