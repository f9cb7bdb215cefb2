"""Rows of a given age, for the retention tests: executions, messages, attempts, events."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from django.db import connection

from campaigns.models import Campaign
from core.ids import uuid7
from delivery.models import Execution, Message, MessageAttempt, MessageEvent

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only"
)

# A fixed "now" for these tests: a Wednesday, so weeks have a clear start.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def execution_at(campaign: Campaign, at: datetime, *, status: str = "succeeded") -> Execution:
    assert campaign.live_version is not None
    execution = Execution.objects.create(
        id=uuid7(at),
        kind="unitary",
        campaign=campaign,
        version=campaign.live_version,
        status=status,
    )
    Execution.objects.filter(pk=execution.pk).update(created_at=at)
    execution.created_at = at
    return execution


def message_at(
    execution: Execution,
    at: datetime,
    *,
    status: str = "sent",
    id: UUID | None = None,
    with_rows: bool = True,
) -> Message:
    """A message accepted at ``at`` (its id from ``at`` unless given), with one attempt
    and one open event when ``with_rows``."""
    message = Message.objects.create(
        id=id or uuid7(at),
        execution=execution,
        campaign=execution.campaign,
        version=execution.version,
        channel="email",
        recipient_type="external",
        user_id="ana@example.com",
        address="ana@example.com",
        status=status,
    )
    Message.objects.filter(pk=message.pk).update(accepted_at=at)
    message.accepted_at = at
    if with_rows:
        MessageAttempt.objects.create(message=message, number=1, outcome="sent")
        MessageEvent.objects.create(message=message, type="opened", at=at, first=True)
    return message


def partition_of(table: str, pk: UUID | int) -> str:
    """The partition holding the row of ``table`` with primary key ``pk``."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def partition_names(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]
