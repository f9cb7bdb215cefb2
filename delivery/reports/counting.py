"""Report rollups, incremented as things happen (``ReportCounter`` rows).

One ``INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count`` adds a
whole batch, on PostgreSQL and on SQLite alike. Rows are written in key order, so
two transactions adding to the same hours cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Field

from core.inserts import Statement
from core.sql import typed_values
from delivery.models import ReportCounter

if TYPE_CHECKING:
    from delivery.services.happenings import Happening

# Eight parameters a row: well under SQLite's limit of 32,766 per statement.
_ROWS_PER_STATEMENT = 500

# (campaign, hour, version, locale, variant, metric, key)
CounterKey = tuple[Any, datetime, Any, str, str, str, str]


def _hour(at: datetime) -> datetime:
    """The UTC hour of ``at``: a provider's time may carry another offset (+05:30)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counter_metrics(happening: Happening) -> Iterable[tuple[str, str]]:
    """The (metric, key) pairs one happening adds 1 to (docs/reports.md lists them)."""
    kind = happening.type
    if kind in ("failed", "excluded", "bounced"):
        yield kind, happening.reason
    elif kind == "deferred":
        yield "bounced", "soft"
    elif kind == "opened":
        metric = "opened_machine" if happening.machine else "opened"
        yield metric, ""
        if happening.first:
            yield f"{metric}_unique", ""
    elif kind == "clicked":
        metric = "clicked_machine" if happening.machine else "clicked"
        yield metric, str(happening.link)
        if happening.first_link:
            yield f"{metric}_unique", str(happening.link)
        if happening.first and not happening.machine:
            # Messages a person clicked; a scanner's click is never a message's first.
            yield "clicked_messages", ""
    else:
        yield kind, ""


def report_count_rows(*, happenings: Sequence[Happening]) -> list[tuple[CounterKey, int]]:
    """The rollup rows ``happenings`` add to, with how much, in key order."""
    counts: Counter[CounterKey] = Counter()
    for happening in happenings:
        message = happening.message
        for metric, key in counter_metrics(happening):
            counts[
                (
                    message.campaign_id,
                    _hour(happening.at),
                    message.version_id,
                    message.locale,
                    "",
                    metric,
                    key,
                )
            ] += 1
    return sorted(counts.items(), key=lambda item: tuple(map(str, item[0])))


def report_counts_add(*, happenings: Sequence[Happening]) -> None:
    """Add ``happenings`` to the rollups, in the caller's transaction (one statement)."""
    with connection.cursor() as cursor:
        for statement in report_counts_statements(happenings=happenings):
            cursor.execute(statement.sql, statement.params)


def report_counts_statements(*, happenings: Sequence[Happening]) -> list[Statement]:
    """The upserts that add ``happenings`` to the rollups (one per 500 counters), for a
    caller that runs them with its own writes (``core.inserts.statements_run``)."""
    rows = report_count_rows(happenings=happenings)
    return [
        _upsert(rows[start : start + _ROWS_PER_STATEMENT])
        for start in range(0, len(rows), _ROWS_PER_STATEMENT)
    ]


def report_counts_upsert_if(
    *, rows: Sequence[tuple[CounterKey, int]], source: str
) -> tuple[str, list[Any]]:
    """The upsert of ``rows`` (a few: one statement), adding only when the query ``source``
    returns a row: a part of a data-modifying ``WITH`` (PostgreSQL), which counts an
    outcome in the statement that writes it, if it writes it."""
    statement = _upsert(list(rows), source=source)
    return statement.sql, list(statement.params)


_NAMES = ("campaign", "hour", "version", "locale", "variant", "metric", "key", "count")


def _upsert(rows: list[tuple[CounterKey, int]], source: str = "") -> Statement:
    meta = ReportCounter._meta
    quote = connection.ops.quote_name
    fields = [field for field in map(meta.get_field, _NAMES) if isinstance(field, Field)]
    columns = [quote(str(field.get_attname_column()[1])) for field in fields]
    conflict, count, table = ", ".join(columns[:-1]), columns[-1], quote(meta.db_table)
    values = [[*key, n] for key, n in rows]
    if source:
        typed, params = typed_values(fields, values, connection)
        rows_sql = f"SELECT * FROM ({typed}) AS v WHERE EXISTS ({source})"  # noqa: S608
    else:
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        rows_sql = "VALUES " + ", ".join([row] * len(rows))
        params = [
            field.get_db_prep_value(value, connection)
            for row_values in values
            for field, value in zip(fields, row_values, strict=True)
        ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) {rows_sql} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    return Statement(sql, params)
