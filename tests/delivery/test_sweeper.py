"""delivery_sweep: what makes a 202 a promise when a publish is lost or a worker dies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from core.actors import Actor
from delivery.calls import AudienceCall
from delivery.models import Execution, Message
from delivery.services.audience import execution_accept_audience
from delivery.services.sending import message_send_batch
from delivery.services.sweeping import delivery_sweep
from tests.delivery.sending_helpers import (
    TRANSIENT,
    accept_audience,
    accept_unitary,
    ids,
    person,
    recipient,
    static_audience,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db

GRACE = 120  # CLARION_SWEEP_GRACE_SECONDS
LEASE = 600  # CLARION_CLAIM_LEASE_SECONDS
NOTHING = {
    "reclaimed": 0,
    "reenqueued": 0,
    "fanouts_restarted": 0,
    "executions_finished": 0,
    "schedules_started": 0,
}


@pytest.fixture
def fanouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    monkeypatch.setattr("delivery.tasks.execution_fanout_task.delay", started.append)
    return started


def _enqueued(messages: list[Message], seconds_ago: float) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    Message.objects.filter(pk__in=ids(messages)).update(enqueued_at=at)


def test_a_queued_message_older_than_the_grace_is_published_again(live_campaign, published) -> None:
    # given a message whose publish was lost 3 minutes ago, and one published just now
    campaign = live_campaign(create_new_profiles=True)
    lost, fresh = accept_unitary(campaign, recipient("lost@example.com"), recipient("new@x.com"))
    _enqueued([lost], GRACE + 60)
    _enqueued([fresh], GRACE - 60)

    # when the sweeper runs
    now = timezone.now()
    result = delivery_sweep(now=now)

    # then only the lost one is published again, and its clock restarts
    assert result == NOTHING | {"reenqueued": 1}
    assert published == [[str(lost.pk)]]
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.enqueued_at == now
    assert fresh.enqueued_at is not None
    assert (now - fresh.enqueued_at).total_seconds() == pytest.approx(GRACE - 60, abs=5)
    assert (lost.status, fresh.status) == ("queued", "queued")


def test_a_message_whose_enqueue_was_never_recorded_is_published(live_campaign, published):
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    Message.objects.filter(pk=message.pk).update(enqueued_at=None)

    assert delivery_sweep() == NOTHING | {"reenqueued": 1}
    assert published == [[str(message.pk)]]


def test_a_message_sending_past_its_lease_is_given_back_and_published(
    live_campaign, published
) -> None:
    # given a worker that died holding a message 11 minutes ago, and one holding another now
    campaign = live_campaign(create_new_profiles=True)
    dead, alive = accept_unitary(campaign, recipient("dead@example.com"), recipient("a@x.com"))
    now = timezone.now()
    Message.objects.filter(pk=dead.pk).update(
        status="sending", claim_token=uuid.uuid4(), claimed_at=now - timedelta(seconds=LEASE + 60)
    )
    alive_token = uuid.uuid4()
    Message.objects.filter(pk=alive.pk).update(
        status="sending", claim_token=alive_token, claimed_at=now - timedelta(seconds=60)
    )

    # when the sweeper runs
    result = delivery_sweep(now=now)

    # then the dead worker's message is queued again and published; the other is untouched
    assert result == NOTHING | {"reclaimed": 1, "reenqueued": 1}
    assert published == [[str(dead.pk)]]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.claim_token, dead.claimed_at, dead.enqueued_at) == (
        "queued",
        None,
        None,
        now,
    )
    assert (alive.status, alive.claim_token) == ("sending", alive_token)


def test_a_message_given_back_is_sent_once(live_campaign, published, monkeypatch) -> None:
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    Message.objects.filter(pk=message.pk).update(
        status="sending",
        claim_token=uuid.uuid4(),
        claimed_at=timezone.now() - timedelta(seconds=LEASE + 1),
        attempts=1,
    )

    delivery_sweep()
    for batch in published:
        message_send_batch(message_ids=batch)
        message_send_batch(message_ids=batch)

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert transport.addresses() == ["ana@example.com"]


def test_a_message_waiting_for_its_retry_is_left_alone(live_campaign, published, monkeypatch):
    # given a message whose retry is due in 30 s
    transport = use_fake_transport(monkeypatch)
    transport.fail("ana@example.com", TRANSIENT)
    monkeypatch.setattr("delivery.tasks.message_send_task.apply_async", lambda *a, **k: None)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    message_send_batch(message_ids=[str(message.pk)])
    message.refresh_from_db()
    due = message.next_attempt_at
    assert due is not None

    # when sweeps run before and after the retry task should have come
    soon = delivery_sweep(now=due + timedelta(seconds=GRACE - 1))
    late = delivery_sweep(now=due + timedelta(seconds=GRACE + 1))

    # then it is published again only once the retry task is overdue by the grace
    assert soon == NOTHING
    assert late == NOTHING | {"reenqueued": 1}
    assert published == [[str(message.pk)]]


def test_a_stalled_fan_out_is_restarted(live_campaign, published, fanouts) -> None:
    # given an audience execution whose fan-out stopped reporting 6 minutes ago, one
    # reporting a minute ago, and one never started and accepted a minute ago
    audience = static_audience("A", [person("ana@example.com", consent={"email": "opted_in"})])
    campaign = live_campaign(category="marketing", audience=audience)
    stalled, running, new = (accept_audience(campaign) for _ in range(3))
    now = timezone.now()
    Execution.objects.filter(pk=stalled.pk).update(heartbeat_at=now - timedelta(minutes=6))
    Execution.objects.filter(pk=running.pk).update(heartbeat_at=now - timedelta(minutes=1))

    # when the sweeper runs now, then after the grace (the new one never began)
    first = delivery_sweep(now=now)
    second = delivery_sweep(now=now + timedelta(seconds=GRACE + 1))

    # then the stalled one was restarted at once, the unstarted one after the grace
    assert first == NOTHING | {"fanouts_restarted": 1}
    assert fanouts[:1] == [str(stalled.pk)]
    assert second["fanouts_restarted"] == 2
    assert sorted(fanouts[1:]) == sorted([str(stalled.pk), str(new.pk)])
    assert published == []


def test_a_fan_out_that_cannot_be_published_does_not_stop_the_sweep(
    live_campaign, published, monkeypatch
) -> None:
    audience = static_audience("A", [person("ana@example.com")])
    campaign = live_campaign(category="marketing", audience=audience)
    accept_audience(campaign)
    lost = accept_unitary(live_campaign(create_new_profiles=True), recipient("b@example.com"))
    _enqueued(lost, GRACE + 1)

    def broker_down(*_args: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr("delivery.tasks.execution_fanout_task.delay", broker_down)

    result = delivery_sweep(now=timezone.now() + timedelta(seconds=GRACE + 1))

    assert result == NOTHING | {"reenqueued": 1, "fanouts_restarted": 1}
    assert published == [ids(lost)]


def test_an_execution_whose_last_batch_died_before_finishing_it_is_finished(
    live_campaign, published, monkeypatch
) -> None:
    # given an execution whose messages are all sent, left in progress (the worker was
    # killed between writing the outcomes and marking the execution)
    use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"))
    message_send_batch(message_ids=ids(messages))
    Execution.objects.update(status="in_progress", counts={}, finished_at=None)
    execution = Execution.objects.get()

    # when the sweeper runs within the grace, then after it
    early = delivery_sweep()
    late = delivery_sweep(now=timezone.now() + timedelta(seconds=GRACE + 1))

    # then it is finished with its counts once the grace has passed
    assert early == NOTHING
    assert late == NOTHING | {"executions_finished": 1}
    execution.refresh_from_db()
    assert (execution.status, execution.counts["sent"]) == ("succeeded", 1)


def test_a_sweep_re_enqueues_at_most_its_cap_oldest_first(
    live_campaign, published, monkeypatch
) -> None:
    # given five lost messages, one of them given back by a dead worker (no enqueue time)
    monkeypatch.setattr("delivery.services.sweeping.SWEEP_MAX_MESSAGES", 3)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, *(recipient(f"r{n}@example.com") for n in range(5)))
    for age, message in zip([500, 400, 300, 200], messages[:4], strict=True):
        _enqueued([message], age)
    Message.objects.filter(pk=messages[4].pk).update(enqueued_at=None)

    # when the sweeper runs twice
    first = delivery_sweep()
    second = delivery_sweep()

    # then the first took three, the never-enqueued one and the two oldest; the second
    # the rest
    assert (first["reenqueued"], second["reenqueued"]) == (3, 2)
    assert sorted(published[0]) == sorted(ids([messages[4], messages[0], messages[1]]))
    assert sorted(published[1]) == sorted(ids([messages[2], messages[3]]))


def test_a_sweep_starts_due_schedules(live_campaign, fanouts) -> None:
    audience = static_audience("A", [person("ana@example.com")])
    campaign = live_campaign(category="marketing", audience=audience)
    at = timezone.now() + timedelta(hours=1)
    execution_accept_audience(
        actor=Actor(),
        call=AudienceCall(campaign_id=campaign.pk, execute_at=at),
        fingerprint="",
        idempotency_key="",
    )

    assert delivery_sweep(now=at) == NOTHING | {"schedules_started": 1}
    assert Execution.objects.get().schedule is not None
