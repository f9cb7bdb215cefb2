"""Time-ordered ids (UUID version 7, RFC 9562 section 5.7).

Python 3.11's ``uuid`` module has no version 7. Rows whose id starts with their
creation time sort by time in every index, and on PostgreSQL the message and event
tables are partitioned by ranges of these ids: a time range is an id range
(``uuid7_floor``), so dropping last month's messages drops whole partitions.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0x2 << 62


def _millis(at: datetime | None) -> int:
    if at is None:
        return time.time_ns() // 1_000_000
    return int(at.timestamp() * 1000)


def _compose(millis: int, rand_a: int, rand_b: int) -> UUID:
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | _VERSION | (rand_a & 0xFFF) << 64
    return UUID(int=value | _VARIANT | (rand_b & 0x3FFF_FFFF_FFFF_FFFF))


def uuid7(at: datetime | None = None) -> UUID:
    """A new random id whose first 48 bits are ``at`` (default: now) in milliseconds."""
    random = int.from_bytes(os.urandom(10), "big")
    return _compose(_millis(at), random >> 62, random)


def uuid7_derived(at: datetime, *parts: object) -> UUID:
    """The same id for the same ``at`` and ``parts``: a version 7 id whose random bits
    are a hash of ``parts``. An audience fan-out names each message by its execution
    and profile, so a resumed batch writes no second row (the primary key refuses it)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=10).digest()
    value = int.from_bytes(digest, "big")
    return _compose(_millis(at), value >> 62, value)


def uuid7_floor(at: datetime) -> UUID:
    """The smallest version 7 id of ``at``'s millisecond: ids made at or after ``at``
    are greater or equal, ids made before are smaller."""
    return UUID(int=(_millis(at) & 0xFFFF_FFFF_FFFF) << 80)


def uuid7_time(value: UUID) -> datetime:
    """When a version 7 id was made (to the millisecond, UTC)."""
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
