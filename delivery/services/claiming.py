"""Claiming a send batch's messages, and starting their executions.

A send task claims its messages with one conditional ``UPDATE`` (``queued`` to
``sending`` with a fresh claim token), so a task delivered twice sends once; the
executions of what it claimed move from ``queued`` to ``in_progress``. Under unitary
load a batch holds one or a few emails, so the round trips of a batch are most of an
email's cost: on PostgreSQL the claim and the start are one statement::

    WITH claimed AS (UPDATE message SET ... WHERE id IN (...) AND status = 'queued'
                     ... RETURNING execution_id),
         started AS (UPDATE execution SET status = 'in_progress', started_at = ...
                     WHERE id IN (SELECT execution_id FROM claimed) AND status = 'queued')
    SELECT count(*) FROM claimed

Elsewhere they are two ``UPDATE`` statements. The claimed messages are then read back
with their profile and their execution's context in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.sql import UpdateQuery

from delivery.models import Execution, ExecutionStatus, Message, MessageStatus
from delivery.services.executions import executions_refresh

# What the send path reads of a message's execution (its context, and whether it is a test).
_EXECUTION_READ = ("id", "context", "is_test")


def _claimable(ids: list[str], now: datetime) -> QuerySet[Message]:
    return Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1))
    )


def _claim_values(token: UUID, now: datetime) -> dict[str, Any]:
    return {
        "status": MessageStatus.SENDING,
        "claim_token": token,
        "claimed_at": now,
        "attempts": F("attempts") + 1,
    }


def _claim_and_start(claimable: QuerySet[Message], token: UUID, now: datetime) -> int:
    """PostgreSQL: claim and start the executions in one statement; how many were claimed."""
    query = claimable.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(_claim_values(token, now))
    claim_sql, claim_params = query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    execution = quote(Execution._meta.db_table)
    execution_id = quote(Message._meta.get_field("execution").column)
    # The claim's SQL comes from the ORM, the rest from model names; values are parameters.
    sql = (
        f"WITH claimed AS ({claim_sql} RETURNING {execution_id}), "  # noqa: S608
        f"started AS (UPDATE {execution} SET status = %s, started_at = %s "
        f"WHERE id IN (SELECT {execution_id} FROM claimed) AND status = %s) "
        "SELECT count(*) FROM claimed"
    )
    params = [*claim_params, ExecutionStatus.IN_PROGRESS, now, ExecutionStatus.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _claimed(ids: list[str], token: UUID) -> list[Message]:
    """The claimed messages, read back by primary key (the token alone has no index), in
    the order they were accepted, with their profile and their execution's context."""
    others = [
        f"execution__{f.name}"
        for f in Execution._meta.concrete_fields
        if f.name not in _EXECUTION_READ
    ]
    return list(
        Message.objects.filter(pk__in=ids, claim_token=token)
        .order_by("accepted_at", "position")
        .select_related("profile", "execution")
        .defer(*others)
    )


def messages_claim(*, message_ids: Sequence[str], token: UUID, now: datetime) -> list[Message]:
    """Claim the ``queued`` messages among ``message_ids`` with ``token`` (counting a try)
    and start their executions; returns the claimed messages."""
    ids = list(message_ids)
    claimable = _claimable(ids, now)
    if connection.vendor == "postgresql":
        claimed = _claim_and_start(claimable, token, now)
        return _claimed(ids, token) if claimed else []
    if not claimable.update(**_claim_values(token, now)):
        return []
    messages = _claimed(ids, token)
    executions_refresh(execution_ids={m.execution_id for m in messages}, started=True)
    return messages
