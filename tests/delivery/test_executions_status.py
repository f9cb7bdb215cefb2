"""An execution's status follows its messages: queued, in progress, then final with counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from delivery.models import Execution, Message
from delivery.services.audience import execution_fanout
from delivery.services.executions import execution_counts
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import (
    PERMANENT,
    TRANSIENT,
    CrashAfterFirstBatch,
    FakeTransport,
    accept_audience,
    accept_unitary,
    ids,
    person,
    recipient,
    static_audience,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db

FEEDBACK = {"delivered": 0, "bounced": 0, "complained": 0}
ZERO = {"queued": 0, "sending": 0, "sent": 0, "failed": 0, "excluded": 0, **FEEDBACK}


@pytest.fixture
def no_retry_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("delivery.tasks.message_send_task.apply_async", lambda *a, **k: None)


def _status_seen_while_sending(transport: FakeTransport) -> list[str]:
    """Wrap the transport to read the execution's status while the provider has the messages."""
    seen: list[str] = []
    send_many = transport.send_many

    def spy(outgoing: Any) -> Any:
        message = Message.objects.select_related("execution").get(pk=outgoing[0].message_id)
        seen.append(message.execution.status)
        return send_many(outgoing)

    transport.send_many = spy  # type: ignore[method-assign]
    return seen


def test_a_unitary_execution_goes_queued_in_progress_succeeded(live_campaign, monkeypatch):
    # given an accepted call of two recipients
    transport = use_fake_transport(monkeypatch)
    seen = _status_seen_while_sending(transport)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))
    execution = Execution.objects.get()
    assert (execution.status, execution.started_at, execution.finished_at) == ("queued", None, None)
    assert execution_counts(execution) == ZERO | {"queued": 2}

    # when its batch is sent
    before = timezone.now()
    message_send_batch(message_ids=ids(messages))

    # then it was in progress while sending, and succeeded with its counts stored
    assert seen == ["in_progress"]
    execution.refresh_from_db()
    assert execution.status == "succeeded"
    assert execution.counts == ZERO | {"sent": 2}
    assert execution.targeted_count == 2
    assert execution.started_at is not None and execution.finished_at is not None
    assert before <= execution.started_at <= execution.finished_at <= timezone.now()


def test_some_failed_is_partially_failed(live_campaign, monkeypatch) -> None:
    transport = use_fake_transport(monkeypatch)
    transport.fail("ben@example.com", PERMANENT)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    message_send_batch(message_ids=ids(messages))

    execution = Execution.objects.get()
    assert (execution.status, execution.counts) == (
        "partially_failed",
        ZERO | {"sent": 1, "failed": 1},
    )
    assert execution.finished_at is not None


def test_all_failed_is_failed(live_campaign, monkeypatch) -> None:
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", PERMANENT)
    transport.fail("ben@example.com", PERMANENT)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    message_send_batch(message_ids=ids(messages))

    execution = Execution.objects.get()
    assert (execution.status, execution.counts) == ("failed", ZERO | {"failed": 2})


def test_failed_and_excluded_without_any_sent_is_failed(live_campaign, monkeypatch) -> None:
    from audiences.models import Suppression

    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", PERMANENT)
    Suppression.objects.create(channel="email", address="ben@example.com", reason="complaint")
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    message_send_batch(message_ids=ids(messages))

    execution = Execution.objects.get()
    assert (execution.status, execution.counts) == ("failed", ZERO | {"failed": 1, "excluded": 1})


def test_an_all_excluded_execution_succeeded(live_campaign, monkeypatch, published) -> None:
    # given a marketing audience where nobody consented
    transport = use_fake_transport(monkeypatch)
    people = [person("ana@example.com"), person("ben@example.com")]
    campaign = live_campaign(category="marketing", audience=static_audience("A", people))
    execution = accept_audience(campaign)
    execution_fanout(execution_id=execution.pk)

    message_send_batch(message_ids=published[0])

    execution.refresh_from_db()
    assert (execution.status, execution.counts) == ("succeeded", ZERO | {"excluded": 2})
    assert transport.calls == []


def test_a_pending_retry_keeps_the_execution_in_progress(
    live_campaign, monkeypatch, no_retry_tasks
) -> None:
    transport = use_fake_transport(monkeypatch)
    transport.fail("ben@example.com", TRANSIENT)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    message_send_batch(message_ids=ids(messages))
    execution = Execution.objects.get()
    assert (execution.status, execution.finished_at, execution.counts) == ("in_progress", None, {})
    assert execution_counts(execution) == ZERO | {"sent": 1, "queued": 1}

    # when the retry goes
    Message.objects.filter(address="ben@example.com").update(next_attempt_at=timezone.now())
    message_send_batch(message_ids=ids(messages))

    execution.refresh_from_db()
    assert (execution.status, execution.counts) == ("succeeded", ZERO | {"sent": 2})


def test_an_audience_execution_finishes_only_after_its_fan_out(
    live_campaign, monkeypatch, published
) -> None:
    # given an audience of three written two at a time, and a fan-out stopped after its
    # first batch (its worker died)
    use_fake_transport(monkeypatch)
    people = [person(f"p{n}@example.com", consent={"email": "opted_in"}) for n in range(3)]
    campaign = live_campaign(category="marketing", audience=static_audience("A", people))
    execution = accept_audience(campaign)
    monkeypatch.setattr("delivery.services.audience.FANOUT_BATCH_SIZE", 2)
    crash = CrashAfterFirstBatch(monkeypatch)
    with pytest.raises(RuntimeError):
        execution_fanout(execution_id=execution.pk)

    # when every message written so far is sent
    message_send_batch(message_ids=published[0])

    # then the execution is still in progress: more messages are to come
    execution.refresh_from_db()
    assert (execution.status, execution.fanout_done, execution.finished_at) == (
        "in_progress",
        False,
        None,
    )
    assert execution_counts(execution) == ZERO | {"sent": 2}

    # and once the fan-out resumes and its last batch is sent, it succeeded
    crash.armed = False
    Execution.objects.filter(pk=execution.pk).update(heartbeat_at=None)
    assert execution_fanout(execution_id=execution.pk) is True
    execution.refresh_from_db()
    assert (execution.status, execution.fanout_done) == ("in_progress", True)
    message_send_batch(message_ids=published[-1])
    execution.refresh_from_db()
    assert (execution.status, execution.counts, execution.targeted_count) == (
        "succeeded",
        ZERO | {"sent": 3},
        3,
    )


def test_an_empty_audience_succeeds_when_its_fan_out_ends(live_campaign, published) -> None:
    campaign = live_campaign(
        category="marketing", audience=static_audience("A", [person("ana@example.com")])
    )
    campaign.audience.members.clear()
    execution = accept_audience(campaign)

    assert execution_fanout(execution_id=execution.pk) is True

    execution.refresh_from_db()
    assert (execution.status, execution.counts, execution.targeted_count) == (
        "succeeded",
        ZERO,
        0,
    )
    assert published == []
