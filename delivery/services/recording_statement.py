"""One message's outcome in one statement, on PostgreSQL: what an email costs to record.

An email's outcome is committed as the server answers it, before the next email goes
(a killed worker resends at most that one). Written the portable way that is five
round trips (``BEGIN``, the message's ``UPDATE``, the attempt's ``INSERT``, the report
counters' upsert, ``COMMIT``), most of an email's time. Here it is one data-modifying
``WITH``, sent in autocommit (one round trip, and the statement is its own
transaction)::

    WITH held AS (UPDATE message SET ... WHERE id = ... AND claim_token = ... RETURNING id),
         attempt AS (INSERT INTO attempt ... SELECT ... WHERE EXISTS (SELECT 1 FROM held)),
         counted AS (INSERT INTO counter ... WHERE EXISTS (SELECT 1 FROM held) ON CONFLICT ...)
    SELECT count(*) FROM held

The attempt and the counters are written only if the message was still held, so
everything is written or nothing is, exactly like the transaction it replaces. When
nothing is (the sweeper took the message back), the caller writes it the careful way
(delivery.services.recording), as it does when a webhook endpoint wants one of the
events (queueing it takes a look-up and a publish after the commit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, QuerySet
from django.db.models.sql import UpdateQuery

from core.sql import typed_values
from delivery.models import Message, MessageAttempt
from delivery.reports.counting import report_count_rows, report_counts_upsert_if
from delivery.services.happenings import Happening, happenings_counted_only

_Part = tuple[str, list[Any]]

# The condition of every write after the message's own: it was still held.
_HELD = "SELECT 1 FROM held"


def outcome_statement_applies(*, messages: Sequence[Message]) -> bool:
    """Whether the outcome of ``messages`` is written in one statement: one message (an
    email, as its server answered), on PostgreSQL."""
    return len(messages) == 1 and connection.vendor == "postgresql"


def _update(held: QuerySet[Message], message: Message, values: Mapping[str, Any]) -> _Part:
    """The message's ``UPDATE`` (only while it is still held), returning its id."""
    query = held.filter(pk=message.pk).query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(dict(values))
    sql, params = query.get_compiler(connection=connection).as_sql()
    pk = Message._meta.pk
    assert pk is not None and pk.column is not None
    return f"{sql} RETURNING {connection.ops.quote_name(pk.column)}", list(params)


def _attempt_fields() -> list[Field[Any, Any]]:
    return [
        f
        for f in MessageAttempt._meta.concrete_fields
        if isinstance(f, Field) and not f.primary_key
    ]


def _stamp(attempts: Sequence[MessageAttempt]) -> list[list[Any]]:
    """Each attempt's column values, its time (``auto_now_add``) set as ``bulk_create`` does."""
    fields = _attempt_fields()
    return [[field.pre_save(attempt, True) for field in fields] for attempt in attempts]


def _insert_attempts(rows: list[list[Any]]) -> _Part:
    fields = _attempt_fields()
    values, params = typed_values(fields, rows, connection)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    return (
        f"INSERT INTO {quote(MessageAttempt._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT * FROM ({values}) AS v WHERE EXISTS ({_HELD})",
        params,
    )


def _statement(parts: Mapping[str, _Part]) -> _Part:
    """``WITH name AS (part), ... SELECT count(*) FROM held``, parameters in order."""
    params: list[Any] = []
    for _sql, part_params in parts.values():
        params += part_params
    with_ = ", ".join(f"{name} AS ({sql})" for name, (sql, _params) in parts.items())
    # Every part's SQL is built here from model names, its values are parameters.
    return f"WITH {with_} SELECT count(*) FROM held", params  # noqa: S608


def outcome_statement_write(
    *,
    held: QuerySet[Message],
    message: Message,
    values: Mapping[str, Any],
    attempts: Sequence[MessageAttempt],
    happenings_of: Callable[[], Sequence[Happening]],
) -> bool | None:
    """Write ``message``'s new ``values``, its ``attempts`` and the report counters of
    its happenings in one statement, if ``held`` still holds it; returns whether it did.

    ``happenings_of`` gives the happenings once the attempts have their time (a
    retry is counted in its attempt's hour). ``None``: a webhook endpoint wants one of
    them, and nothing was written (the caller's transaction queues the events).
    """
    rows = _stamp(attempts)
    happenings = happenings_of()
    if not happenings_counted_only(happenings=happenings):
        return None
    parts: dict[str, _Part] = {"held": _update(held, message, values)}
    if rows:
        parts["attempt"] = _insert_attempts(rows)
    counts = report_count_rows(happenings=happenings)
    if counts:
        parts["counted"] = report_counts_upsert_if(rows=counts, source=_HELD)
    sql, params = _statement(parts)
    # Autocommit (a send task holds no transaction): the statement commits itself.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])
