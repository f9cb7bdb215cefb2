"""The retention purge: old final messages go with their attempts and events; counts stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from delivery.models import (
    Execution,
    IdempotencyRecord,
    Message,
    MessageAttempt,
    MessageEvent,
    ReportCounter,
)
from delivery.retention.purge import messages_purge
from delivery.retention.registry import retention_register, retention_unregister
from delivery.services.happenings import Happening, happenings_record
from tests.delivery.retention_helpers import NOW, execution_at, message_at

pytestmark = pytest.mark.django_db

CUTOFF = NOW - timedelta(days=90)
OLD = NOW - timedelta(days=120)


def test_old_final_messages_go_with_their_attempts_and_events_and_nothing_else(
    live_campaign,
) -> None:
    campaign = live_campaign()
    execution = execution_at(campaign, OLD)
    final = [message_at(execution, OLD, status=s) for s in ("sent", "failed", "excluded")]
    final += [message_at(execution, OLD, status=s) for s in ("delivered", "bounced", "complained")]
    queued = message_at(execution, OLD, status="queued")
    sending = message_at(execution, OLD, status="sending")
    retrying = message_at(execution, OLD, status="queued")
    Message.objects.filter(pk=retrying.pk).update(attempts=2, next_attempt_at=NOW)
    recent = message_at(execution_at(campaign, NOW), NOW - timedelta(days=89))

    report = messages_purge(older_than=CUTOFF)

    kept = {queued.pk, sending.pk, retrying.pk, recent.pk}
    assert set(Message.objects.values_list("pk", flat=True)) == kept
    assert set(MessageAttempt.objects.values_list("message_id", flat=True)) == kept
    assert set(MessageEvent.objects.values_list("message_id", flat=True)) == kept
    assert report.messages_purged == 6
    assert report.partitions_kept == []
    assert Execution.objects.count() == 2  # both still have messages


def test_executions_go_once_their_messages_are_gone_and_only_if_finished(live_campaign) -> None:
    campaign = live_campaign()
    emptied = execution_at(campaign, OLD)
    message_at(emptied, OLD, status="sent")
    never_had_any = execution_at(campaign, OLD, status="failed")
    unfinished = execution_at(campaign, OLD, status="in_progress")  # a fan-out yet to write
    recent = execution_at(campaign, NOW)

    report = messages_purge(older_than=CUTOFF)

    assert set(Execution.objects.values_list("pk", flat=True)) == {unfinished.pk, recent.pk}
    assert report.executions_deleted == 2
    assert not Execution.objects.filter(pk__in=[emptied.pk, never_had_any.pk]).exists()


def test_batches_delete_everything_due(live_campaign) -> None:
    execution = execution_at(live_campaign(), OLD)
    for _ in range(5):
        message_at(execution, OLD)

    report = messages_purge(older_than=CUTOFF, batch_size=2)

    assert report.messages_purged == 5
    assert (Message.objects.count(), MessageAttempt.objects.count(), Execution.objects.count()) == (
        0,
        0,
        0,
    )


def test_report_counts_stay_after_the_purge(live_campaign) -> None:
    execution = execution_at(live_campaign(), OLD)
    messages = [message_at(execution, OLD) for _ in range(3)]
    happenings_record(
        [Happening("sent", m, OLD) for m in messages]
        + [Happening("opened", messages[0], OLD, first=True)]
    )
    counts = [("opened", 1), ("opened_unique", 1), ("sent", 3)]
    assert list(ReportCounter.objects.order_by("metric").values_list("metric", "count")) == counts

    report = messages_purge(older_than=CUTOFF)

    assert (report.messages_purged, Message.objects.count()) == (3, 0)
    assert list(ReportCounter.objects.order_by("metric").values_list("metric", "count")) == counts


def test_a_dry_run_deletes_nothing(live_campaign) -> None:
    execution = execution_at(live_campaign(), OLD)
    message_at(execution, OLD)
    message_at(execution, OLD, status="queued")

    report = messages_purge(older_than=CUTOFF, dry_run=True)

    assert report.messages_purged == 1
    assert report.executions_deleted == 0  # it still has its queued message
    assert (Message.objects.count(), MessageAttempt.objects.count()) == (2, 2)
    assert MessageEvent.objects.count() == 2


@pytest.fixture
def registered() -> Iterator[None]:
    """Stand-ins for a feature's tables: events as if tied to messages by id only, and
    idempotency records as rows kept by their own time."""
    retention_register(MessageEvent, message_field="message_id")
    retention_register(IdempotencyRecord, time_field="created_at")
    yield
    retention_unregister(MessageEvent)
    retention_unregister(IdempotencyRecord)


def test_registered_tables_are_purged_with_their_messages_or_by_their_own_time(
    live_campaign, registered
) -> None:
    execution = execution_at(live_campaign(), OLD)
    gone = message_at(execution, OLD)
    kept = message_at(execution, OLD, status="queued")
    stale, fresh = (
        IdempotencyRecord.objects.create(
            owner="key:1",
            key=key,
            endpoint="unitary",
            body_hash="",
            response_status=202,
            response_body={},
        )
        for key in ("stale", "fresh")
    )
    IdempotencyRecord.objects.filter(pk=stale.pk).update(created_at=OLD)

    report = messages_purge(older_than=CUTOFF)

    assert report.registered_deleted == {
        "delivery.MessageEvent": 1,
        "delivery.IdempotencyRecord": 1,
    }
    assert list(MessageEvent.objects.values_list("message_id", flat=True)) == [kept.pk]
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert not Message.objects.filter(pk=gone.pk).exists()
    assert IdempotencyRecord.objects.get().pk == fresh.pk


def test_registering_needs_one_existing_field() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        retention_register(MessageEvent, message_field="message_id", time_field="at")
    with pytest.raises(Exception, match="no field named 'nope'"):
        retention_register(MessageEvent, time_field="nope")
