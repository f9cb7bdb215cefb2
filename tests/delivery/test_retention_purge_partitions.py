"""PostgreSQL: the purge drops whole weeks when it can, and deletes in batches when not.

These tests commit (``transactional_db``): partitions are detached and dropped as in
production, outside any test transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from uuid import UUID

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from delivery.models import Execution, Message, MessageAttempt, MessageEvent, ReportCounter
from delivery.retention.maintenance import message_partitions_ensure
from delivery.retention.partitions import partition_week_drop, partitions_list, week_start
from delivery.retention.purge import messages_purge
from delivery.services.happenings import Happening, happenings_record
from tests.delivery.retention_helpers import (
    NOW,
    execution_at,
    message_at,
    partition_names,
    partition_of,
    postgresql_only,
)

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]

CUTOFF = NOW - timedelta(days=90)
WEEK_A = NOW - timedelta(days=130)  # every message final: dropped whole
WEEK_B = NOW - timedelta(days=110)  # one queued, one retrying: kept
TABLES = ("delivery_message", "delivery_messageattempt", "delivery_messageevent")
# Version 4 ids (from before ids were time-ordered) land in the DEFAULT partition.
OLD_STYLE_IDS = [
    UUID("f1d2d2f9-24e4-4a2b-8a3b-5c6d7e8f9a0b"),
    UUID("f2d2d2f9-24e4-4a2b-8a3b-5c6d7e8f9a0b"),
    UUID("f3d2d2f9-24e4-4a2b-8a3b-5c6d7e8f9a0b"),
]


@pytest.fixture(autouse=True)
def _weeks_made_here_dropped() -> Iterator[None]:
    """These tests commit their partitions: the weeks they make are dropped after them."""
    with connection.cursor() as cursor:
        before = set(partitions_list(cursor, "delivery_message"))
    yield
    with connection.cursor() as cursor:
        for partition in set(partitions_list(cursor, "delivery_message")) - before:
            assert partition.lower is not None and partition.upper is not None
            partition_week_drop(connection, cursor, partition.lower, partition.upper)


def _week(at: datetime) -> str:
    return f"p{week_start(at):%Y%m%d}"


def test_old_weeks_of_final_messages_are_dropped_and_others_purged_in_batches(
    live_campaign,
) -> None:
    message_partitions_ensure(now=WEEK_A, weeks_ahead=0)
    message_partitions_ensure(now=WEEK_B, weeks_ahead=0)
    campaign = live_campaign()
    execution_a, execution_b = execution_at(campaign, WEEK_A), execution_at(campaign, WEEK_B)
    dropped = [message_at(execution_a, WEEK_A, status=s) for s in ("sent", "failed")]
    b_final = message_at(execution_b, WEEK_B, status="delivered")
    b_queued = message_at(execution_b, WEEK_B, status="queued")
    b_retrying = message_at(execution_b, WEEK_B, status="queued")
    Message.objects.filter(pk=b_retrying.pk).update(attempts=1, next_attempt_at=NOW)
    # The DEFAULT partition: an old final message, an old queued one, a recent final one.
    default_old = message_at(execution_b, WEEK_B, status="sent", id=OLD_STYLE_IDS[0])
    default_queued = message_at(execution_b, WEEK_B, status="queued", id=OLD_STYLE_IDS[1])
    default_recent = message_at(execution_b, NOW, status="sent", id=OLD_STYLE_IDS[2])
    happenings_record(happenings=[Happening("sent", m, WEEK_A) for m in dropped])
    counts = list(ReportCounter.objects.values_list("metric", "key", "count"))
    assert partition_of("delivery_message", b_final.pk) == f"delivery_message_{_week(WEEK_B)}"
    assert partition_of("delivery_message", default_old.pk) == "delivery_message_default"

    report = messages_purge(older_than=CUTOFF)

    assert report.partitions_dropped == [f"delivery_message_{_week(WEEK_A)}"]
    assert report.partitions_kept == [f"delivery_message_{_week(WEEK_B)}"]
    assert (report.messages_in_dropped, report.messages_deleted) == (2, 2)
    for table in TABLES:
        names = partition_names(table)
        assert f"{table}_{_week(WEEK_A)}" not in names
        assert f"{table}_{_week(WEEK_B)}" in names
    kept = {b_queued.pk, b_retrying.pk, default_queued.pk, default_recent.pk}
    assert set(Message.objects.values_list("pk", flat=True)) == kept
    assert set(MessageAttempt.objects.values_list("message_id", flat=True)) == kept
    assert set(MessageEvent.objects.values_list("message_id", flat=True)) == kept
    assert list(ReportCounter.objects.values_list("metric", "key", "count")) == counts
    assert counts == [("sent", "", 2)]
    # Execution A lost all its messages; B keeps its queued ones.
    assert list(campaign.executions.values_list("pk", flat=True)) == [execution_b.pk]


def test_a_week_is_not_dropped_while_a_message_in_it_was_accepted_after_the_cutoff(
    live_campaign,
) -> None:
    # A message id says when its execution was made; a fan-out writes later. Only
    # accepted_at says when a message came (and version 4 ids say nothing).
    message_partitions_ensure(now=WEEK_A, weeks_ahead=0)
    execution = execution_at(live_campaign(), WEEK_A)
    old = message_at(execution, WEEK_A)
    late = message_at(execution, WEEK_A)
    Message.objects.filter(pk=late.pk).update(accepted_at=NOW)

    report = messages_purge(older_than=CUTOFF)

    assert report.partitions_dropped == []
    assert report.partitions_kept == [f"delivery_message_{_week(WEEK_A)}"]
    assert list(Message.objects.values_list("pk", flat=True)) == [late.pk]
    assert not Message.objects.filter(pk=old.pk).exists()


def test_the_command_s_dry_run_reports_without_deleting(live_campaign) -> None:
    old = timezone.now() - timedelta(days=120)
    message_partitions_ensure(now=old, weeks_ahead=0)
    execution = execution_at(live_campaign(), old)
    for _ in range(3):
        message_at(execution, old)
    out = StringIO()

    call_command("purge_messages", "--dry-run", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Would purge messages accepted before ")
    assert lines[0].endswith(" UTC (90 days):")
    assert lines[1:] == [
        "  partitions dropped: 1 (3 messages)",
        f"    delivery_message_{_week(old)}",
        "  partitions kept (not all final): 0",
        "  messages deleted in batches: 0",
        "  executions deleted: 1",
        "  delivery.WebhookDelivery: 0",  # registered by delivery itself
    ]
    assert (Message.objects.count(), MessageAttempt.objects.count()) == (3, 3)
    assert f"delivery_message_{_week(old)}" in partition_names("delivery_message")

    call_command("purge_messages", stdout=out)

    assert (Message.objects.count(), Execution.objects.count()) == (0, 0)
    assert f"delivery_message_{_week(old)}" not in partition_names("delivery_message")


def test_a_week_in_use_is_not_waited_for_its_messages_go_in_batches(
    live_campaign, monkeypatch
) -> None:
    message_partitions_ensure(now=WEEK_A, weeks_ahead=0)
    execution = execution_at(live_campaign(), WEEK_A)
    messages = [message_at(execution, WEEK_A) for _ in range(2)]
    monkeypatch.setattr("delivery.retention.purge.PURGE_LOCK_TIMEOUT_MS", 200)
    reader = connections.create_connection(DEFAULT_DB_ALIAS)  # someone reading that week
    try:
        reader.set_autocommit(False)
        with reader.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM delivery_message_{_week(WEEK_A)}")  # noqa: S608

        report = messages_purge(older_than=CUTOFF)
    finally:
        reader.rollback()
        reader.close()

    assert (report.partitions_dropped, report.partitions_kept) == ([], [])
    assert report.messages_deleted == len(messages)
    assert (Message.objects.count(), MessageAttempt.objects.count()) == (0, 0)
    assert f"delivery_message_{_week(WEEK_A)}" in partition_names("delivery_message")
