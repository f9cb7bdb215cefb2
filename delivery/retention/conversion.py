"""Migration 0006_partitions: the message, attempt and event tables rebuilt partitioned.

Each table is renamed, a partitioned table made ``LIKE`` it (columns, defaults,
identity, check constraints), its partitions created (DEFAULT and one per week from
the oldest time-ordered message to a few weeks ahead), the rows copied, the old table
dropped, then its primary key, unique constraints, indexes and foreign keys created
again from their definitions in the catalog, under the names Django gave them (later
migrations that alter them still find them). Nothing is hard-coded but the partition
keys: columns and indexes added by other migrations come along.

The reverse rebuilds plain tables the same way. Both copy every row in the migration's
transaction, holding the tables locked: minutes on a large installation (see
docs/operations.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from core.ids import uuid7_time
from delivery.retention.partitions import (
    MESSAGE_TABLE,
    MIGRATION_WEEKS_BACK_MAX,
    PARTITIONED_TABLES,
    PartitionedTable,
    partition_default_create,
    partition_week_create,
    week_start,
)

_KEY_COLUMNS = re.compile(r"^(PRIMARY KEY|UNIQUE(?: NULLS NOT DISTINCT)?) \(([^)]*)\)(.*)$", re.S)


@dataclass(frozen=True)
class _Definition:
    table: str
    name: str
    kind: str  # p, u, f, x (constraints) or i (index)
    sql: str


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return str(connection.ops.quote_name(name))


def _own_definitions(cursor: CursorWrapper, spec: PartitionedTable) -> list[_Definition]:
    """Primary key, unique and exclusion constraints, indexes, and foreign keys to tables
    that are not rebuilt (those between rebuilt tables are in ``_foreign_keys_in``)."""
    rebuilt = [t.table for t in PARTITIONED_TABLES]
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND conparentid = 0 AND contype IN ('p', 'u', 'x', 'f') "
        "AND (contype <> 'f' OR NOT confrelid::regclass::text = ANY(%s)) ORDER BY contype DESC",
        [spec.table, rebuilt],
    )
    definitions = [_Definition(spec.table, n, k, sql) for n, k, sql in cursor.fetchall()]
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
        "AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY i.relname",
        [spec.table],
    )
    definitions += [_Definition(spec.table, n, "i", sql) for n, sql in cursor.fetchall()]
    return definitions


def _foreign_keys_in(cursor: CursorWrapper) -> list[_Definition]:
    """Every foreign key referencing a rebuilt table (from any table, rebuilt ones too)."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conparentid = 0 AND confrelid::regclass::text = ANY(%s) "
        "ORDER BY 1, 2",
        [[t.table for t in PARTITIONED_TABLES]],
    )
    return [_Definition(table, name, "f", sql) for table, name, sql in cursor.fetchall()]


def _key_columns_adjusted(
    definition: _Definition, spec: PartitionedTable, partitioned: bool
) -> str:
    """A primary key or unique constraint as the new table needs it: holding the partition
    key when partitioned (the primary key gains it), only Django's primary key when not."""
    match = _KEY_COLUMNS.match(definition.sql)
    if definition.kind not in ("p", "u") or match is None:
        return definition.sql
    kind, columns, rest = match[1], [c.strip() for c in match[2].split(",")], match[3]
    if partitioned and spec.key not in columns:
        if definition.kind == "u":
            raise RuntimeError(
                f"{definition.table}.{definition.name} is unique without {spec.key}: "
                "a partitioned table cannot enforce it. Add the column to the constraint."
            )
        columns.append(spec.key)
    elif not partitioned and definition.kind == "p":
        columns = [spec.pk]
    return f"{kind} ({', '.join(columns)}){rest}"


def _check_unique_indexes(cursor: CursorWrapper, spec: PartitionedTable) -> None:
    cursor.execute(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attname = %s "
        "WHERE x.indrelid = to_regclass(%s) AND x.indisunique AND NOT a.attnum = ANY(x.indkey) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
        "AND c.conrelid = x.indrelid AND c.contype = 'p')",
        [spec.key, spec.table],
    )
    bad = [name for (name,) in cursor.fetchall()]
    if bad:
        raise RuntimeError(
            f"Unique indexes of {spec.table} without {spec.key} cannot be kept on a "
            f"partitioned table: {', '.join(bad)}."
        )


def _sequences(cursor: CursorWrapper, table: str) -> dict[str, str]:
    """Column -> the sequence it takes its values from (identity or serial)."""
    cursor.execute(
        "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        [table, table],
    )
    return {column: seq for column, seq in cursor.fetchall() if seq}


def _rebuild(
    connection: BaseDatabaseWrapper,
    cursor: CursorWrapper,
    spec: PartitionedTable,
    *,
    partitioned: bool,
    weeks: Sequence[datetime],
) -> None:
    old = f"{spec.table}__old"
    table, old_q = _q(connection, spec.table), _q(connection, old)
    if partitioned:
        _check_unique_indexes(cursor, spec)
    definitions = _own_definitions(cursor, spec)
    old_sequences = _sequences(cursor, spec.table)
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old_q}")
    tail = f" PARTITION BY RANGE ({_q(connection, spec.key)})" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {old_q} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION "
        f"INCLUDING COMMENTS){tail}"
    )
    if partitioned:
        partition_default_create(connection, cursor, spec)
        for monday in weeks:
            partition_week_create(connection, cursor, monday, tables=[spec])
    copy = f"INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {old_q}"  # noqa: S608 (names)
    cursor.execute(copy)
    # Where each sequence stood (above the highest id left when rows were deleted), and
    # its name: the new table's sequence takes both once the old one is dropped.
    positions = {}
    for column, sequence in old_sequences.items():
        cursor.execute(
            f"SELECT last_value, is_called, (SELECT relname FROM pg_class "  # noqa: S608 (catalog)
            f"WHERE oid = to_regclass(%s)) FROM {sequence}",
            [sequence],
        )
        positions[column] = cursor.fetchone()
    cursor.execute(f"DROP TABLE {old_q}")
    for column, sequence in _sequences(cursor, spec.table).items():
        if column in positions:
            last_value, is_called, name = positions[column]
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {_q(connection, name)}")
    for definition in definitions:
        if definition.kind == "i":
            # A partitioned table's indexes read "ON ONLY t": the plain table takes "ON t".
            cursor.execute(definition.sql.replace(" ON ONLY ", " ON ", 1))
        else:
            sql = _key_columns_adjusted(definition, spec, partitioned)
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {_q(connection, definition.name)} {sql}"
            )
    cursor.execute(f"ANALYZE {table}")


def _weeks(cursor: CursorWrapper, now: datetime, weeks_ahead: int) -> list[datetime]:
    """Mondays from the oldest time-ordered message's week (version 7 ids: their 13th hex
    digit is 7; version 4 ids never) to ``weeks_ahead`` after this week."""
    cursor.execute(
        f"SELECT id FROM {MESSAGE_TABLE.table} "  # noqa: S608 (a constant)
        "WHERE substring(id::text, 15, 1) = '7' ORDER BY id LIMIT 1"
    )
    row = cursor.fetchone()
    oldest = row[0] if row else None
    this_week = week_start(now)
    first = this_week
    if oldest is not None:
        earliest = this_week - timedelta(weeks=MIGRATION_WEEKS_BACK_MAX)
        first = min(this_week, max(earliest, week_start(uuid7_time(oldest))))
    count = (this_week - first).days // 7 + weeks_ahead + 1
    return [first + timedelta(weeks=n) for n in range(count)]


def tables_partition(connection: BaseDatabaseWrapper, *, weeks_ahead: int) -> None:
    """The forward migration: partition the three tables (PostgreSQL only)."""
    with connection.cursor() as cursor:
        weeks = _weeks(cursor, datetime.now(tz=UTC), weeks_ahead)
        _tables_rebuild(connection, cursor, partitioned=True, weeks=weeks)


def tables_unpartition(connection: BaseDatabaseWrapper) -> None:
    """The reverse migration: plain tables again, with every row."""
    with connection.cursor() as cursor:
        _tables_rebuild(connection, cursor, partitioned=False, weeks=[])


def _tables_rebuild(
    connection: BaseDatabaseWrapper,
    cursor: CursorWrapper,
    *,
    partitioned: bool,
    weeks: Sequence[datetime],
) -> None:
    foreign_keys = _foreign_keys_in(cursor)
    for fk in foreign_keys:
        cursor.execute(f"ALTER TABLE {fk.table} DROP CONSTRAINT {_q(connection, fk.name)}")
    for spec in PARTITIONED_TABLES:
        _rebuild(connection, cursor, spec, partitioned=partitioned, weeks=weeks)
    for fk in foreign_keys:
        cursor.execute(f"ALTER TABLE {fk.table} ADD CONSTRAINT {_q(connection, fk.name)} {fk.sql}")
