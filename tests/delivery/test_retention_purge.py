"""The retention purge: old final messages go with their attempts and events; counts stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app
from delivery import tasks
from delivery.models import (
    Execution,
    IdempotencyRecord,
    Message,
    MessageAttempt,
    MessageEvent,
    ReportCounter,
    ShortLink,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
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
        happenings=[Happening("sent", m, OLD) for m in messages]
        + [Happening("opened", messages[0], OLD, first=True)]
    )
    counts = [("opened", 1), ("opened_unique", 1), ("sent", 3)]
    assert list(ReportCounter.objects.order_by("metric").values_list("metric", "count")) == counts

    report = messages_purge(older_than=CUTOFF)

    assert (report.messages_purged, Message.objects.count()) == (3, 0)
    assert list(ReportCounter.objects.order_by("metric").values_list("metric", "count")) == counts


def test_a_dry_run_deletes_nothing(live_campaign) -> None:
    campaign = live_campaign()
    execution = execution_at(campaign, OLD)
    message_at(execution, OLD)
    message_at(execution, OLD, status="queued")
    message_at(execution_at(campaign, OLD), OLD)  # its execution would go with it

    report = messages_purge(older_than=CUTOFF, dry_run=True)

    assert report.messages_purged == 2
    assert report.executions_deleted == 1  # the other still has its queued message
    assert (Message.objects.count(), MessageAttempt.objects.count()) == (3, 3)
    assert (MessageEvent.objects.count(), Execution.objects.count()) == (3, 2)
    assert messages_purge(older_than=CUTOFF).executions_deleted == 1


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
        # the tables delivery registers itself
        "delivery.ShortLink": 0,
        "delivery.WebhookDelivery": 0,
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


def test_the_purge_and_the_partition_maintenance_are_nightly_beat_tasks(live_campaign) -> None:
    purge = settings.CELERY_BEAT_SCHEDULE["messages-purge"]
    ensure = settings.CELERY_BEAT_SCHEDULE["message-partitions-ensure"]
    execution = execution_at(live_campaign(), timezone.now() - timedelta(days=91))
    message_at(execution, execution.created_at)

    assert (purge["task"], str(purge["schedule"])) == (
        "delivery.tasks.messages_purge_task",
        "<crontab: 41 3 * * * (m/h/dM/MY/d)>",
    )
    assert (ensure["task"], str(ensure["schedule"])) == (
        "delivery.tasks.message_partitions_ensure_task",
        "<crontab: 11 3 * * * (m/h/dM/MY/d)>",
    )
    assert {purge["task"], ensure["task"]} <= set(app.tasks)
    assert settings.CLARION_MESSAGE_RETENTION_DAYS == 90
    assert tasks.messages_purge_task() == 1  # older than 90 days: purged
    assert Message.objects.count() == 0
    # Partitions for this week and the next four exist since migrate (none on SQLite).
    assert tasks.message_partitions_ensure_task() == []


def test_the_command_reports_a_dry_run_then_purges(live_campaign) -> None:
    old = timezone.now() - timedelta(days=40)
    execution = execution_at(live_campaign(), old)
    for _ in range(2):
        message_at(execution, old)
    out = StringIO()

    call_command("purge_messages", "--dry-run", "--days", "30", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Would purge messages accepted before ")
    assert lines[0].endswith(" UTC (30 days):")
    assert lines[1:] == [
        "  partitions dropped: 0 (0 messages)",
        "  partitions kept (not all final): 0",
        "  messages deleted in batches: 2",
        "  executions deleted: 1",
        "  delivery.WebhookDelivery: 0",  # registered by delivery itself, like ShortLink
    ]
    assert (Message.objects.count(), Execution.objects.count()) == (2, 1)

    call_command("purge_messages", "--days", "30", stdout=out)

    assert (Message.objects.count(), Execution.objects.count()) == (0, 0)
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_messages", "--days", "0")


def test_short_links_go_with_their_message_and_webhook_deliveries_by_their_age(
    live_campaign,
) -> None:
    # given an old sent SMS's short link, an old webhook delivery with its attempt and
    # a recent one (the tables delivery registers in its app's ready())
    execution = execution_at(live_campaign(), OLD)
    gone = message_at(execution, OLD)
    ShortLink.objects.create(code="abcdefghi", message=gone, link=1)
    endpoint = WebhookEndpoint.objects.create(
        name="receiver", url="https://hooks.example.com/x", event_types=["sent"]
    )
    old, recent = (
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="sent", message_id=gone.pk, payload={}
        )
        for _ in range(2)
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=OLD)
    WebhookAttempt.objects.create(delivery=old, endpoint=endpoint, number=1, at=OLD)

    # when the purge runs
    report = messages_purge(older_than=CUTOFF)

    # then the short link went with its message, the old delivery with its attempt
    assert report.registered_deleted["delivery.ShortLink"] == 1
    assert report.registered_deleted["delivery.WebhookDelivery"] == 1
    assert not ShortLink.objects.exists()
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not WebhookAttempt.objects.exists()
    assert not Message.objects.filter(pk=gone.pk).exists()
