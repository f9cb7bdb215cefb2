"""Marking finished executions final in one statement, on PostgreSQL.

Every send batch ends by marking final the executions whose messages are all final
(delivery.services.executions). The portable way is three round trips (which are
done, their messages counted by status, an ``UPDATE`` per kind of ending), and the
Python that builds them costs more than sending an email. Under unitary load a batch
holds one or a few emails, so that fixed cost is most of an email's. Here it is one
statement::

    WITH done AS (SELECT id FROM execution WHERE id = ANY(...) AND fanout_done
                  AND status NOT IN (final) AND NOT EXISTS (a message queued or sending)),
         counted AS (SELECT execution_id, status, count(*) FROM message
                     WHERE execution_id IN (SELECT id FROM done) GROUP BY 1, 2),
         totals AS (SELECT done.id, count per status ... FROM done LEFT JOIN counted ...)
    UPDATE execution SET status = CASE ..., counts = ..., finished_at = ...
    FROM totals WHERE execution.id = totals.id AND execution.status NOT IN (final)

It decides exactly what the portable way decides (the same conditions, counts and
final status, in ``_final_status``'s order), and the ``UPDATE`` checks again that the
execution is not final, as the portable ``UPDATE`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection

from delivery.models import (
    EXECUTION_FINAL,
    MESSAGE_SENT,
    Execution,
    ExecutionStatus,
    Message,
    MessageStatus,
)

UNFINISHED = (MessageStatus.QUEUED, MessageStatus.SENDING)


def finish_statement_applies() -> bool:
    """Whether executions are marked final in one statement: on PostgreSQL."""
    return connection.vendor == "postgresql"


def _in(values: Sequence[str]) -> str:
    return ", ".join("%s" for _ in values)


def _sql() -> str:
    quote = connection.ops.quote_name
    execution, message = quote(Execution._meta.db_table), quote(Message._meta.db_table)
    statuses = list(MessageStatus.values)
    per_status = ", ".join(
        f"coalesce(sum(c.n) FILTER (WHERE c.status = %s), 0)::int AS {quote('n_' + s)}"
        for s in statuses
    )
    counts = ", ".join(f"%s, t.{quote('n_' + s)}" for s in statuses)
    failed = f"t.{quote('n_' + MessageStatus.FAILED)}"
    sent = " + ".join(f"t.{quote('n_' + s)}" for s in MESSAGE_SENT)
    final = _in(EXECUTION_FINAL)
    # Every value is a parameter; table and column names come from the models, quoted.
    return f"""  -- executions finished

        WITH done AS (
            SELECT e.id FROM {execution} e
            WHERE e.id = ANY(%s) AND e.fanout_done AND e.status NOT IN ({final})
              AND NOT EXISTS (
                  SELECT 1 FROM {message} m
                  WHERE m.execution_id = e.id AND m.status IN ({_in(UNFINISHED)})
              )
        ),
        counted AS (
            SELECT m.execution_id AS id, m.status, count(*) AS n FROM {message} m
            WHERE m.execution_id IN (SELECT id FROM done) GROUP BY 1, 2
        ),
        totals AS (
            SELECT d.id, {per_status}
            FROM done d LEFT JOIN counted c ON c.id = d.id GROUP BY d.id
        )
        UPDATE {execution} SET
            status = CASE
                WHEN {failed} > 0 AND ({sent}) = 0 THEN %s
                WHEN {failed} > 0 THEN %s
                ELSE %s
            END,
            counts = jsonb_build_object({counts}),
            finished_at = %s
        FROM totals t
        WHERE {execution}.id = t.id AND {execution}.status NOT IN ({final})
    """  # noqa: S608


def executions_finish_statement(*, execution_ids: Sequence[UUID], now: datetime) -> int:
    """Mark final, in one statement, those of ``execution_ids`` whose messages are all
    final; returns how many it marked."""
    statuses = list(MessageStatus.values)
    params: list[Any] = [
        list(execution_ids),
        *EXECUTION_FINAL,
        *UNFINISHED,
        *statuses,
        ExecutionStatus.FAILED,
        ExecutionStatus.PARTIALLY_FAILED,
        ExecutionStatus.SUCCEEDED,
        *statuses,
        now,
        *EXECUTION_FINAL,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_sql(), params)
        return int(cursor.rowcount)
