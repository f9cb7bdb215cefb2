"""A per-process LRU cache bounded by entry count and by the total size of its entries.

``functools.lru_cache`` bounds only the count: 2,048 cached one-megabyte
templates would be gigabytes once parsed. Here every entry carries a size
(characters of source, for templates) and the oldest entries are dropped until
both bounds hold again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Least-recently-used entries go first once ``max_entries`` or ``max_size`` is exceeded.

    An entry larger than ``max_size`` on its own is returned to the caller but
    never stored. Safe to share between threads (gunicorn threads, Celery
    thread pools).
    """

    def __init__(self, *, max_entries: int, max_size: int) -> None:
        self.max_entries = max_entries
        self.max_size = max_size
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_size(self) -> int:
        """The sum of the sizes of the entries held now."""
        return self._size

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, *, size: int) -> V:
        with self._lock:
            if key in self._entries:
                self._size -= self._entries.pop(key)[1]
            if size > self.max_size:
                return value
            self._entries[key] = (value, size)
            self._size += size
            while len(self._entries) > self.max_entries or self._size > self.max_size:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped
        return value

    def get_or_build(self, key: K, build: Callable[[], V], *, size: int) -> V:
        """The cached value, or ``build()`` stored under ``key``.

        ``build`` runs outside the lock: two threads missing at once both build,
        and the second result replaces the first (both are equal).
        """
        found = self.get(key)
        if found is not None:
            return found
        return self.put(key, build(), size=size)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
