"""PostgreSQL: messages, attempts and events partitioned by week, and their maintenance."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection
from django.utils import timezone

from core.ids import uuid7
from delivery.models import Message, MessageAttempt, MessageEvent
from delivery.retention.maintenance import message_partitions_ensure
from delivery.retention.partitions import week_start
from tests.delivery.retention_helpers import (
    NOW,
    execution_at,
    message_at,
    partition_names,
    partition_of,
    postgresql_only,
)

pytestmark = [postgresql_only, pytest.mark.django_db]

TABLES = ("delivery_message", "delivery_messageattempt", "delivery_messageevent")
# Version 4 ids from before ids were time-ordered: their first bits are random (these
# read as years far ahead), so they land in the DEFAULT partition.
OLD_STYLE_ID = UUID("f1d2d2f9-24e4-4a2b-8a3b-5c6d7e8f9a0b")


def test_the_three_tables_are_partitioned_by_message_id_after_migrate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE c.relname LIKE 'delivery_%' ORDER BY 1"
        )
        partitioned = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s) ORDER BY 1",
            [list(TABLES)],
        )
        primary_keys = cursor.fetchall()

    assert partitioned == [
        ("delivery_message", "r", "id"),
        ("delivery_messageattempt", "r", "message_id"),
        ("delivery_messageevent", "r", "message_id"),
    ]
    assert primary_keys == [
        ("delivery_message", "PRIMARY KEY (id)"),
        ("delivery_messageattempt", "PRIMARY KEY (id, message_id)"),
        ("delivery_messageevent", "PRIMARY KEY (id, message_id)"),
    ]
    this_week = week_start(timezone.now())
    for table in TABLES:
        names = partition_names(table)
        assert f"{table}_default" in names
        for n in range(5):  # this week and the next four
            assert f"{table}_p{this_week + timedelta(weeks=n):%Y%m%d}" in names


def test_rows_land_in_the_partition_of_their_messages_week(live_campaign) -> None:
    message_partitions_ensure(now=NOW, weeks_ahead=0)
    execution = execution_at(live_campaign(), NOW)

    message = message_at(execution, NOW)
    old_style = message_at(execution, NOW, id=OLD_STYLE_ID)

    week = "p20261123"  # NOW is Wednesday 25 November 2026
    assert partition_of("delivery_message", message.pk) == f"delivery_message_{week}"
    assert partition_of("delivery_messageattempt", message.attempt_log.get().pk) == (
        f"delivery_messageattempt_{week}"
    )
    assert partition_of("delivery_messageevent", message.events.get().pk) == (
        f"delivery_messageevent_{week}"
    )
    assert partition_of("delivery_message", old_style.pk) == "delivery_message_default"
    assert partition_of("delivery_messageattempt", old_style.attempt_log.get().pk) == (
        "delivery_messageattempt_default"
    )
    assert partition_of("delivery_messageevent", old_style.events.get().pk) == (
        "delivery_messageevent_default"
    )


def test_the_maintenance_makes_the_coming_weeks_once() -> None:
    later = NOW + timedelta(weeks=300)  # weeks no other test makes
    monday = week_start(later)

    made = message_partitions_ensure(now=later, weeks_ahead=2)
    again = message_partitions_ensure(now=later, weeks_ahead=2)

    expected = [f"p{monday + timedelta(weeks=n):%Y%m%d}" for n in range(3)]
    assert made == [f"delivery_message_{week}" for week in expected]
    assert again == []
    for table in TABLES:
        assert [f"{table}_{week}" for week in expected] == [
            name for name in partition_names(table) if name[-9:] in expected
        ]


def test_the_maintenance_moves_into_a_new_week_the_rows_the_default_partition_got(
    live_campaign,
) -> None:
    later = NOW + timedelta(weeks=400)  # no partition yet: the rows go to DEFAULT
    execution = execution_at(live_campaign(), later)
    message = message_at(execution, later)
    other = message_at(execution, later, id=OLD_STYLE_ID)
    attempt, event = message.attempt_log.get(), message.events.get()
    assert partition_of("delivery_message", message.pk) == "delivery_message_default"

    made = message_partitions_ensure(now=later, weeks_ahead=0)

    week = f"p{week_start(later):%Y%m%d}"
    assert made == [f"delivery_message_{week}"]
    assert partition_of("delivery_message", message.pk) == f"delivery_message_{week}"
    assert partition_of("delivery_messageattempt", attempt.pk) == f"delivery_messageattempt_{week}"
    assert partition_of("delivery_messageevent", event.pk) == f"delivery_messageevent_{week}"
    assert partition_of("delivery_message", other.pk) == "delivery_message_default"
    # The rows moved whole: same ids, still joined, and the keys still enforced.
    assert list(MessageAttempt.objects.filter(message=message).values_list("pk", flat=True)) == [
        attempt.pk
    ]
    assert list(MessageEvent.objects.filter(message=message).values_list("pk", flat=True)) == [
        event.pk
    ]
    assert Message.objects.filter(pk__in=[message.pk, other.pk]).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SAVEPOINT orphan")
        with pytest.raises(Exception, match="foreign key"):
            cursor.execute(
                "INSERT INTO delivery_messageattempt (message_id, number, outcome, code, "
                "detail, provider_message_id, at) VALUES (%s, 1, 'sent', '', '', '', now())",
                [uuid7(later)],
            )
        cursor.execute("ROLLBACK TO SAVEPOINT orphan")
