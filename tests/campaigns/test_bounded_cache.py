"""BoundedCache: least recently used entries go once the count or the total size is exceeded."""

from __future__ import annotations

from campaigns.bounded_cache import BoundedCache


def test_the_oldest_entries_go_when_the_count_is_exceeded() -> None:
    cache: BoundedCache[str, int] = BoundedCache(max_entries=2, max_size=100)
    cache.put("a", 1, size=1)
    cache.put("b", 2, size=1)
    assert cache.get("a") == 1  # "a" is now the most recently used

    cache.put("c", 3, size=1)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert (len(cache), cache.total_size) == (2, 2)


def test_the_oldest_entries_go_when_the_size_is_exceeded() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=100, max_size=10)
    cache.put("a", "A", size=4)
    cache.put("b", "B", size=4)

    cache.put("c", "C", size=4)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")
    assert (len(cache), cache.total_size) == (2, 8)


def test_an_entry_larger_than_the_whole_budget_is_returned_but_not_kept() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=10, max_size=10)
    cache.put("small", "s", size=3)

    built = cache.get_or_build("huge", lambda: "H", size=11)

    assert built == "H"
    assert (cache.get("huge"), cache.get("small")) == (None, "s")
    assert cache.total_size == 3


def test_replacing_a_key_counts_its_size_once() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=10, max_size=10)
    cache.put("a", "first", size=5)

    cache.put("a", "second", size=6)

    assert (cache.get("a"), len(cache), cache.total_size) == ("second", 1, 6)
