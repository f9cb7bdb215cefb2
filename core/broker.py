"""Celery's Redis broker transport, with one Redis client per connection pool instead of one
per command.

kombu's Redis channel builds a new ``redis.Redis`` for every ``LPUSH`` it publishes (and
every other command it sends outside the consumer's loop); redis-py fills some 150
response callbacks in that constructor. That was 0.26 of the 0.60 ms of CPU one send
task's publish costs (docs/performance.md, "Trigger API"): the same per-operation cost
``core.cache`` removes from Django's Redis cache. A ``redis.Redis`` only borrows a
connection from its pool per command, so one instance serves every thread.

Selected by ``CELERY_BROKER_TRANSPORT`` (``config/settings/base.py``) for ``redis://``
and ``rediss://`` broker URLs; the URL, its options and TLS are read as kombu reads them.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    """Keeps the ``redis.Redis`` of its (synchronous) connection pool."""

    _reused_client: tuple[Any, Any] | None = None  # (pool, client)

    @contextmanager
    def conn_or_acquire(self, client: Any | None = None) -> Generator[Any, None, None]:
        if client:
            yield client
            return
        pool = self.pool
        reused = self._reused_client
        # A channel drops its pool when the connection is lost and makes a new one.
        if reused is None or reused[0] is not pool:
            kombu_channel: Any = self  # kombu-stubs leave out the private helpers used here
            reused = self._reused_client = (pool, kombu_channel._create_client())
        yield reused[1]


class Transport(redis.Transport):
    """kombu's Redis transport with ``Channel``."""

    Channel = Channel
