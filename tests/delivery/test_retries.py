"""Transient errors are retried with exponential backoff and jitter; permanent ones fail."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from audiences.models import PushRegistration, Suppression
from delivery.channels.base import TransportError
from delivery.models import Message, MessageAttempt
from delivery.services.sending import message_send_batch, retry_delay
from tests.delivery.sending_helpers import (
    PERMANENT,
    TRANSIENT,
    accept_unitary,
    ids,
    person,
    recipient,
    use_fake_transport,
)
from tests.factories import PushConfigurationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], float]]:
    """Retry tasks are recorded (their message ids and countdown) instead of published."""
    scheduled: list[tuple[list[str], float]] = []

    def apply_async(args: tuple[list[str]], countdown: float, **_options: Any) -> None:
        scheduled.append((list(args[0]), countdown))

    monkeypatch.setattr("delivery.tasks.message_send_task.apply_async", apply_async)
    return scheduled


def _due_now(message: Message) -> None:
    """Time passes until the retry is due (the task's countdown)."""
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_a_transient_error_requeues_the_message_and_schedules_a_retry(
    live_campaign, monkeypatch, retries
) -> None:
    # given a provider answering 421 once
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", TRANSIENT)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    # when it is sent
    before = timezone.now()
    outcome = message_send_batch(message_ids=[str(message.pk)])

    # then it waits in the queue for its next attempt, 30 s +-20% from now
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("queued", 1, "smtp_421")
    assert message.reason_detail == "421 Service not available, try later"
    assert message.claim_token is None
    assert message.next_attempt_at is not None
    assert message.next_attempt_at == message.enqueued_at
    wait = (message.next_attempt_at - before).total_seconds()
    assert 24 <= wait <= 36.5
    # and the attempt is recorded, and a retry task is scheduled with that countdown
    attempt = MessageAttempt.objects.get(message=message)
    assert (attempt.number, attempt.outcome, attempt.code) == (1, "retry", "smtp_421")
    assert retries == [([str(message.pk)], pytest.approx(wait, abs=0.5))]
    assert list(outcome.retry.values()) == [[str(message.pk)]]
    assert (outcome.sent, outcome.failed) == (0, 0)
    assert transport.sent == []


def test_a_retry_task_running_before_its_time_claims_nothing(
    live_campaign, monkeypatch, retries
) -> None:
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", TRANSIENT)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    message_send_batch(message_ids=[str(message.pk)])

    # when the original task is delivered again (acks_late) before the retry is due
    outcome = message_send_batch(message_ids=[str(message.pk)])

    # then nothing happened
    assert (outcome.sent, outcome.failed, outcome.retry) == (0, 0, {})
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)
    assert len(transport.calls) == 1


def test_the_retry_goes_when_due_and_attempts_count_up(live_campaign, monkeypatch, retries):
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", TRANSIENT)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    message_send_batch(message_ids=[str(message.pk)])

    _due_now(message)
    outcome = message_send_batch(message_ids=retries[0][0])

    assert outcome.sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason, message.next_attempt_at) == (
        "sent",
        2,
        "",
        None,
    )
    assert list(MessageAttempt.objects.values_list("number", "outcome", "code")) == [
        (1, "retry", "smtp_421"),
        (2, "sent", ""),
    ]
    assert transport.addresses() == ["ana@example.com"]


def test_six_transient_failures_fail_the_message_with_the_last_reason(
    live_campaign, monkeypatch, retries
) -> None:
    # given a provider failing six times, the last time with another code
    transport = use_fake_transport(monkeypatch)
    last = TransportError("smtp_451", "451 Local error in processing", permanent=False)
    transport.fail("ana@example.com", *([TRANSIENT] * 5), last)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    # when every attempt runs as soon as it is due
    for _attempt in range(6):
        _due_now(message)
        message_send_batch(message_ids=[str(message.pk)])

    # then it failed after the sixth, with the last reason
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason, message.reason_detail) == (
        "failed",
        6,
        "smtp_451",
        "451 Local error in processing",
    )
    assert list(MessageAttempt.objects.values_list("number", "outcome", "code")) == [
        (1, "retry", "smtp_421"),
        (2, "retry", "smtp_421"),
        (3, "retry", "smtp_421"),
        (4, "retry", "smtp_421"),
        (5, "retry", "smtp_421"),
        (6, "failed", "smtp_451"),
    ]
    # and five retries were scheduled, 30 s x3 each time, +-20%
    countdowns = [countdown for _ids, countdown in retries]
    assert len(countdowns) == 5
    for number, countdown in enumerate(countdowns, start=1):
        base = 30 * 3 ** (number - 1)
        assert base * 0.8 <= countdown <= base * 1.2
    assert transport.sent == []
    assert Suppression.objects.count() == 0  # a transient failure teaches nothing


@override_settings(CLARION_SEND_MAX_ATTEMPTS=2)
def test_the_number_of_attempts_is_configurable(live_campaign, monkeypatch, retries) -> None:
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", TRANSIENT, TRANSIENT)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    for _attempt in range(2):
        _due_now(message)
        message_send_batch(message_ids=[str(message.pk)])

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)
    assert len(retries) == 1


def test_retry_delays_grow_by_three_with_twenty_percent_jitter(monkeypatch) -> None:
    # the bounds of the jitter, exactly
    monkeypatch.setattr("delivery.services.sending.random.uniform", lambda low, high: low)
    assert [retry_delay(n) for n in range(1, 6)] == [24.0, 72.0, 216.0, 648.0, 1944.0]
    monkeypatch.setattr("delivery.services.sending.random.uniform", lambda low, high: high)
    assert [retry_delay(n) for n in range(1, 6)] == [36.0, 108.0, 324.0, 972.0, 2916.0]
    monkeypatch.undo()
    # and real jitter stays inside them, and varies
    delays = [retry_delay(2) for _ in range(200)]
    assert all(72.0 <= delay <= 108.0 for delay in delays)
    assert len(set(delays)) > 100


def test_a_permanent_error_fails_at_once_and_suppresses_a_hard_bounce(
    live_campaign, monkeypatch, retries
) -> None:
    # given a provider refusing the address for good, and another one working
    transport = use_fake_transport(monkeypatch)
    transport.fail(
        "gone@example.com",
        TransportError("smtp_550", "550 No such user", permanent=True, suppress=True),
    )
    transport.fail("refused@example.com", PERMANENT)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(
        campaign,
        recipient("gone@example.com"),
        recipient("refused@example.com"),
        recipient("ok@example.com"),
    )

    # when the batch is sent
    outcome = message_send_batch(message_ids=ids(messages))

    # then the two failed at once, without a retry, and only the hard bounce is suppressed
    assert (outcome.sent, outcome.failed, outcome.retry) == (1, 2, {})
    assert retries == []
    found = {
        m.address: (m.status, m.attempts, m.reason, m.next_attempt_at)
        for m in Message.objects.all()
    }
    assert found == {
        "gone@example.com": ("failed", 1, "smtp_550", None),
        "refused@example.com": ("failed", 1, "smtp_550", None),
        "ok@example.com": ("sent", 1, "", None),
    }
    assert list(Suppression.objects.values_list("channel", "address", "reason", "note")) == [
        ("email", "gone@example.com", "hard_bounce", "550 No such user")
    ]
    assert sorted(MessageAttempt.objects.values_list("message__address", "outcome")) == [
        ("gone@example.com", "failed"),
        ("ok@example.com", "sent"),
        ("refused@example.com", "failed"),
    ]


def test_a_push_token_reported_gone_is_forgotten(live_campaign, monkeypatch, retries) -> None:
    # given a profile with two devices, one of which the push service no longer knows
    transport = use_fake_transport(monkeypatch)
    profile = person("ana@example.com")
    PushRegistration.objects.create(
        profile=profile, app_id="com.example.shop", platform="android", token="tok-old"
    )
    PushRegistration.objects.create(
        profile=profile, app_id="com.example.shop", platform="android", token="tok-new"
    )
    transport.fail(
        "tok-new", TransportError("push_unregistered", "404 NOT_FOUND", permanent=True, gone=True)
    )
    campaign = live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "Hi", "body": "Your order"}},
    )
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    message_send_batch(message_ids=[str(message.pk)])

    message.refresh_from_db()
    assert (message.status, message.reason, message.address) == (
        "failed",
        "push_unregistered",
        "tok-new",
    )
    assert list(PushRegistration.objects.values_list("token", flat=True)) == ["tok-old"]
    assert retries == []


def test_a_transport_that_raises_retries_the_chunk_instead_of_stranding_it(
    live_campaign, monkeypatch, retries
) -> None:
    # given a transport with a bug: it raises instead of answering
    transport = use_fake_transport(monkeypatch)
    transport.raise_next = ConnectionResetError("connection reset by peer")
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    # when the batch is sent
    outcome = message_send_batch(message_ids=ids(messages))

    # then both are queued again for a retry (not left in "sending" until the lease ends)
    assert (outcome.sent, outcome.failed) == (0, 0)
    found = [
        (m.status, m.attempts, m.reason, m.reason_detail)
        for m in Message.objects.order_by("position")
    ]
    detail = "ConnectionResetError('connection reset by peer')"
    assert found == [("queued", 1, "transport_exception", detail)] * 2
    assert [sorted(batch) for batch, _countdown in retries] == [sorted(ids(messages))]
    assert transport.sent == []

    # and the retry sends them
    for message in messages:
        _due_now(message)
    assert message_send_batch(message_ids=retries[0][0]).sent == 2
