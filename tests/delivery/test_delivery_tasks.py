"""The Celery tasks of delivery are thin: each runs its service (called here in process),
and the idempotency records are pruned after 24 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import Execution, IdempotencyRecord, Message
from delivery.services.idempotency import idempotency_prune
from delivery.tasks import (
    delivery_sweep_task,
    execution_fanout_task,
    idempotency_prune_task,
    message_send_task,
)
from tests.delivery.sending_helpers import (
    accept_audience,
    accept_unitary,
    person,
    recipient,
    static_audience,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db


def _record(key: str, age: timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        owner="key:1",
        key=key,
        endpoint="unitary",
        body_hash="0" * 64,
        response_status=202,
        response_body={},
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_idempotency_records_older_than_24_hours_are_pruned() -> None:
    _record("old", timedelta(hours=24, seconds=1))
    _record("young", timedelta(hours=23, minutes=59))

    deleted = idempotency_prune()

    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]


def test_prune_counts_from_the_given_time() -> None:
    _record("a", timedelta(hours=1))
    _record("b", timedelta(hours=2))

    assert idempotency_prune(now=timezone.now() + timedelta(hours=22, minutes=30)) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["a"]


def test_the_prune_task_prunes() -> None:
    _record("old", timedelta(days=2))

    assert idempotency_prune_task() == 1
    assert IdempotencyRecord.objects.count() == 0


def test_the_send_task_sends_its_batch(live_campaign, monkeypatch) -> None:
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    result = message_send_task([str(message.pk)])

    assert result == {"sent": 1, "failed": 0, "excluded": 0}
    assert transport.addresses() == ["ana@example.com"]
    assert Message.objects.get().status == "sent"


def test_the_fanout_task_fans_out(live_campaign, published) -> None:
    audience = static_audience("A", [person("ana@example.com")])
    execution = accept_audience(live_campaign(category="marketing", audience=audience))

    assert execution_fanout_task(str(execution.pk)) is True

    message = Message.objects.get()
    assert published == [[str(message.pk)]]
    assert Execution.objects.get().fanout_done is True


def test_the_sweep_task_sweeps(live_campaign, published) -> None:
    [message] = accept_unitary(live_campaign(create_new_profiles=True), recipient("a@x.com"))
    Message.objects.filter(pk=message.pk).update(enqueued_at=None)

    result = delivery_sweep_task()

    assert result["reenqueued"] == 1
    assert published == [[str(message.pk)]]
