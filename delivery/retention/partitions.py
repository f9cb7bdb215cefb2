"""PostgreSQL: the message, attempt and event tables partitioned by week of message id.

Message ids are UUID version 7 (core.ids): the id starts with its creation time, so
a week is a range of ids, ``uuid7_floor(Monday 00:00 UTC)`` up to the next Monday's.
``delivery_message`` is partitioned ``BY RANGE (id)``; ``delivery_messageattempt``
and ``delivery_messageevent`` ``BY RANGE (message_id)`` with the same bounds, so a
week's messages, attempts and events are dropped together (the purge: referencing
partitions first, since PostgreSQL refuses to detach a message partition whose rows
are still referenced). Each table has a DEFAULT partition for the rest: messages
written before ids were time-ordered (UUID version 4, spread over all ranges) and
any id outside the weeks created.

Every unique index of a partitioned table must hold the partition key, so the
primary key of attempts and events is ``(id, message_id)``; Django still sees ``id``
(a sequence, unique by itself) as the primary key.

SQLite has no partitions: everything here is for PostgreSQL only, and callers check
``partitioning_enabled`` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from core.ids import uuid7_floor


@dataclass(frozen=True)
class PartitionedTable:
    """A table partitioned by message id: its name, partition key and Django primary key."""

    table: str
    key: str
    pk: str = "id"


# Referenced before referencing: created and attached in this order, dropped in reverse.
MESSAGE_TABLE = PartitionedTable("delivery_message", "id")
PARTITIONED_TABLES = (
    MESSAGE_TABLE,
    PartitionedTable("delivery_messageattempt", "message_id"),
    PartitionedTable("delivery_messageevent", "message_id"),
)
# The migration also makes weekly partitions for past weeks holding messages, but never
# more than this far back: older ids stay in the DEFAULT partition until purged.
MIGRATION_WEEKS_BACK_MAX = 104

_BOUND = re.compile(r"FOR VALUES FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)")


@dataclass(frozen=True)
class Partition:
    """One partition: a week (``lower``..``upper``, ids) or the DEFAULT one."""

    name: str
    lower: UUID | None
    upper: UUID | None

    @property
    def is_default(self) -> bool:
        return self.lower is None


def week_start(at: datetime) -> datetime:
    """Monday 00:00 UTC of ``at``'s week."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def week_bounds(monday: datetime) -> tuple[UUID, UUID]:
    """The id range of the week starting ``monday``: from its first id to the next week's."""
    return uuid7_floor(monday), uuid7_floor(monday + timedelta(days=7))


def partition_name(table: str, monday: datetime) -> str:
    return f"{table}_p{monday:%Y%m%d}"


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return str(connection.ops.quote_name(name))


def table_is_partitioned(cursor: CursorWrapper, table: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))",
        [table],
    )
    return bool(cursor.fetchone()[0])


def partitioning_enabled(connection: BaseDatabaseWrapper) -> bool:
    """Whether the message table is partitioned here (PostgreSQL, after 0006_partitions)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return table_is_partitioned(cursor, MESSAGE_TABLE.table)


def partitions_list(cursor: CursorWrapper, table: str) -> list[Partition]:
    """The partitions of ``table``, weeks in id order, then the DEFAULT one."""
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        [table],
    )
    partitions = []
    for name, bound in cursor.fetchall():
        match = _BOUND.fullmatch(bound)
        if match:
            partitions.append(Partition(name, UUID(match[1]), UUID(match[2])))
        elif bound == "DEFAULT":
            partitions.append(Partition(name, None, None))
        # Any other bound (made by hand) is left alone.
    return sorted(partitions, key=lambda p: (p.is_default, p.lower or UUID(int=0)))


def _default(partitions: Iterable[Partition]) -> Partition | None:
    return next((p for p in partitions if p.is_default), None)


def _week_missing(
    cursor: CursorWrapper, tables: Sequence[PartitionedTable], lower: UUID, upper: UUID
) -> list[tuple[PartitionedTable, Partition | None]]:
    missing = []
    for spec in tables:
        partitions = partitions_list(cursor, spec.table)
        if not any(p.lower == lower and p.upper == upper for p in partitions):
            missing.append((spec, _default(partitions)))
    return missing


def partition_week_create(
    connection: BaseDatabaseWrapper,
    cursor: CursorWrapper,
    monday: datetime,
    tables: Sequence[PartitionedTable] = PARTITIONED_TABLES,
) -> bool:
    """Create the week's partition of each table that lacks it; ``True`` if any was made.

    Call it in a transaction. Each partition is made as a plain table and then
    attached. When the DEFAULT partition already holds rows of that week (pre-upgrade
    version 4 ids land anywhere; or the maintenance did not run in time), PostgreSQL
    would refuse the new partition: those rows are first moved into it, referencing
    rows (events, attempts) before the messages they reference, with foreign keys
    checked at once so that no check is left pending on the rows that moved.
    """
    lower, upper = week_bounds(monday)
    missing = _week_missing(cursor, tables, lower, upper)
    if not missing:
        return False
    moving = False
    for spec, default in reversed(missing):
        name = partition_name(spec.table, monday)
        cursor.execute(
            f"CREATE TABLE {_q(connection, name)} (LIKE {_q(connection, spec.table)} "
            "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)"
        )
        if default is None:
            continue
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_q(connection, default.name)} "  # noqa: S608 (names)
            f"WHERE {_q(connection, spec.key)} >= %s AND {_q(connection, spec.key)} < %s)",
            [lower, upper],
        )
        if not cursor.fetchone()[0]:
            continue
        if not moving:
            # Deferred checks would look for the moved messages in the DEFAULT partition
            # at commit; checked now, nothing references them while they move.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            moving = True
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_q(connection, default.name)} "  # noqa: S608 (names)
            f"WHERE {_q(connection, spec.key)} >= %s AND {_q(connection, spec.key)} < %s "
            f"RETURNING *) INSERT INTO {_q(connection, name)} SELECT * FROM moved",
            [lower, upper],
        )
    for spec, _default_partition in missing:
        cursor.execute(
            f"ALTER TABLE {_q(connection, spec.table)} ATTACH PARTITION "
            f"{_q(connection, partition_name(spec.table, monday))} FOR VALUES FROM (%s) TO (%s)",
            [str(lower), str(upper)],
        )
    if moving:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are deferred
    return True


def partition_default_create(
    connection: BaseDatabaseWrapper, cursor: CursorWrapper, spec: PartitionedTable
) -> None:
    cursor.execute(
        f"CREATE TABLE {_q(connection, spec.table + '_default')} "
        f"PARTITION OF {_q(connection, spec.table)} DEFAULT"
    )


def partition_week_drop(
    connection: BaseDatabaseWrapper, cursor: CursorWrapper, lower: UUID, upper: UUID
) -> list[str]:
    """Detach and drop the partitions of the id range ``lower``..``upper`` of every table:
    events and attempts first, then the messages. Returns the names dropped."""
    dropped = []
    for spec in reversed(PARTITIONED_TABLES):
        for partition in partitions_list(cursor, spec.table):
            if partition.lower == lower and partition.upper == upper:
                table, name = _q(connection, spec.table), _q(connection, partition.name)
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
                dropped.append(partition.name)
    return dropped
