"""PostgreSQL: migration 0006_partitions on tables that already hold rows, both ways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Message, MessageAttempt, MessageEvent
from delivery.retention.partitions import table_is_partitioned, week_start
from tests.delivery.retention_helpers import (
    execution_at,
    message_at,
    partition_names,
    partition_of,
    postgresql_only,
)

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]

TABLES = ("delivery_message", "delivery_messageattempt", "delivery_messageevent")
BEFORE = ("delivery", "0005_webhooks")  # the migration 0006 follows
OLD_STYLE_ID = UUID("f1d2d2f9-24e4-4a2b-8a3b-5c6d7e8f9a0b")


def _migrate(target: tuple[str, str] | None) -> None:
    executor = MigrationExecutor(connection)
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.fixture
def unpartitioned() -> Iterator[None]:
    """The tables as before 0006 (whatever the test does, the database ends migrated)."""
    _migrate(BEFORE)
    yield
    _migrate(None)


def _catalog() -> tuple[set[str], set[str]]:
    """The names of the three tables' own constraints and indexes (not their partitions')."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conparentid = 0 "
            "AND conrelid::regclass::text = ANY(%s)",
            [list(TABLES)],
        )
        constraints = {name for (name,) in cursor.fetchall()}
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(TABLES)])
        return constraints, {name for (name,) in cursor.fetchall()}


def test_the_migration_keeps_every_row_name_and_sequence_both_ways(
    unpartitioned, live_campaign
) -> None:
    with connection.cursor() as cursor:
        assert not any(table_is_partitioned(cursor, table) for table in TABLES)
    now = timezone.now()
    three_weeks_ago = now - timedelta(weeks=3)
    execution = execution_at(live_campaign(), three_weeks_ago)
    old_style = message_at(execution, three_weeks_ago - timedelta(weeks=30), id=OLD_STYLE_ID)
    earlier = message_at(execution, three_weeks_ago, status="queued")
    current = message_at(execution, now)
    # The event sequence is past the highest id left: the next id must not reuse one.
    gone = MessageEvent.objects.create(message=current, type="clicked", at=now, link=1)
    MessageEvent.objects.filter(pk=gone.pk).delete()
    catalog = _catalog()
    rows = {
        table: sorted(map(str, model._default_manager.values_list("pk", flat=True)))
        for table, model in zip(TABLES, (Message, MessageAttempt, MessageEvent), strict=True)
    }

    _migrate(None)

    with connection.cursor() as cursor:
        assert all(table_is_partitioned(cursor, table) for table in TABLES)
    for table, model in zip(TABLES, (Message, MessageAttempt, MessageEvent), strict=True):
        assert sorted(map(str, model._default_manager.values_list("pk", flat=True))) == rows[table]
    # From the oldest time-ordered message's week to four weeks ahead, and DEFAULT.
    first = week_start(three_weeks_ago)
    weeks = [f"delivery_message_p{first + timedelta(weeks=n):%Y%m%d}" for n in range(8)]
    assert partition_names("delivery_message") == sorted([*weeks, "delivery_message_default"])
    assert partition_of("delivery_message", earlier.pk) == weeks[0]
    assert partition_of("delivery_message", current.pk) == weeks[3]
    assert partition_of("delivery_message", old_style.pk) == "delivery_message_default"
    assert partition_of("delivery_messageevent", current.events.get().pk) == (
        f"delivery_messageevent_p{week_start(now):%Y%m%d}"
    )
    constraints, indexes = _catalog()
    assert constraints == catalog[0]
    assert indexes == catalog[1]
    assert MessageEvent.objects.create(message=current, type="opened", at=now).pk == gone.pk + 1
    new_message = message_at(execution, now)
    assert Message.objects.filter(execution=execution).count() == 4
    assert new_message.attempt_log.count() == 1

    _migrate(BEFORE)

    with connection.cursor() as cursor:
        assert not any(table_is_partitioned(cursor, table) for table in TABLES)
    assert Message.objects.count() == 4
    assert (MessageAttempt.objects.count(), MessageEvent.objects.count()) == (4, 5)
    assert _catalog() == catalog
    # The sequence went on: gone.pk + 1 and + 2 were taken while partitioned.
    assert MessageEvent.objects.create(message=current, type="opened", at=now).pk == gone.pk + 3
