"""An email's outcome, recorded as its server answers, in one statement on PostgreSQL
(delivery.services.recording_statement): the message, its attempt and its report
counters, all or nothing, committed before the next email goes."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery.channels.base import Outgoing
from delivery.models import Message, MessageAttempt, ReportCounter, WebhookDelivery
from delivery.reports.rebuild import report_counts_check
from delivery.services.sending import message_send_batch
from tests.delivery.report_helpers import record_retries
from tests.delivery.sending_helpers import (
    PERMANENT,
    TRANSIENT,
    OneByOneTransport,
    accept_unitary,
    ids,
    recipient,
    use_fake_transport,
)
from tests.delivery.webhook_helpers import endpoint_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
    ),
]


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> OneByOneTransport:
    transport = OneByOneTransport()
    use_fake_transport(monkeypatch, transport)
    return transport


def _counters(campaign: Any) -> Counter[tuple[str, str]]:
    counted: Counter[tuple[str, str]] = Counter()
    for row in ReportCounter.objects.filter(campaign=campaign).exclude(metric="targeted"):
        counted[(row.metric, row.key)] += row.count
    return counted


def test_each_email_costs_one_statement(live_campaign, monkeypatch) -> None:
    # given a batch of one email and a batch of four, answered one by one
    _one_by_one(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    one = accept_unitary(campaign, recipient("solo@example.com"))
    four = accept_unitary(campaign, *(recipient(f"r{n}@example.com") for n in range(4)))

    # when each batch is sent
    with CaptureQueriesContext(connection) as small:
        message_send_batch(message_ids=ids(one))
    with CaptureQueriesContext(connection) as large:
        message_send_batch(message_ids=ids(four))

    # then each further email cost one statement, and no savepoint (no transaction)
    assert len(large.captured_queries) - len(small.captured_queries) == 3
    assert not [q for q in large.captured_queries if "SAVEPOINT" in q["sql"]]
    # and every outcome, attempt and counter is written
    assert Message.objects.filter(status="sent", claim_token=None).count() == 5
    assert MessageAttempt.objects.filter(outcome="sent", number=1).count() == 5
    assert set(Message.objects.values_list("provider_message_id", flat=True)) == {
        f"fake-{n}" for n in range(1, 6)
    }
    assert _counters(campaign) == {("sent", ""): 5}
    assert report_counts_check(campaign_id=campaign.pk) == []


@pytest.mark.django_db(transaction=True)
def test_each_email_is_committed_before_the_next_one_goes(live_campaign, monkeypatch) -> None:
    # given three emails, and a second connection that looks while each goes
    transport = _one_by_one(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, *(recipient(f"r{n}@example.com") for n in range(3)))
    seen: list[list[str]] = []
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:

        def look(_outgoing: Outgoing) -> None:
            rows = other.execute(
                "SELECT status FROM delivery_message WHERE id = ANY(%s) ORDER BY position",
                [[m.pk for m in messages]],
            ).fetchall()
            seen.append([status for (status,) in rows])

        transport.before_each = look

        # when they are sent
        message_send_batch(message_ids=ids(messages))

    # then another connection saw each outcome committed before the next email went
    assert seen == [
        ["sending", "sending", "sending"],
        ["sent", "sending", "sending"],
        ["sent", "sent", "sending"],
    ]
    assert MessageAttempt.objects.count() == 3
    assert _counters(campaign) == {("sent", ""): 3}


def test_a_retry_and_a_failure_are_counted_exactly(live_campaign, monkeypatch) -> None:
    # given three emails: one goes, one gets a 421, one a 550
    record_retries(monkeypatch)
    transport = _one_by_one(monkeypatch)
    transport.fail("late@example.com", TRANSIENT)
    transport.fail("gone@example.com", PERMANENT)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(
        campaign,
        recipient("ok@example.com"),
        recipient("late@example.com"),
        recipient("gone@example.com"),
    )

    # when they are sent
    message_send_batch(message_ids=ids(messages))

    # then each outcome, attempt and counter is what the portable path writes
    fresh = {m.address: m for m in Message.objects.filter(pk__in=ids(messages))}
    assert [(fresh[a].status, fresh[a].reason, fresh[a].attempts) for a in sorted(fresh)] == [
        ("failed", "smtp_550", 1),
        ("queued", "smtp_421", 1),
        ("sent", "", 1),
    ]
    assert sorted(MessageAttempt.objects.values_list("outcome", "code")) == [
        ("failed", "smtp_550"),
        ("retry", "smtp_421"),
        ("sent", ""),
    ]
    assert _counters(campaign) == {("sent", ""): 1, ("retried", ""): 1, ("failed", "smtp_550"): 1}
    assert report_counts_check(campaign_id=campaign.pk) == []


def test_an_email_taken_back_meanwhile_is_left_to_its_new_sender(
    live_campaign, monkeypatch
) -> None:
    # given two emails, and while the server has the second, the sweeper gives it back
    # and another worker claims it (this worker had stalled past the lease)
    transport = _one_by_one(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    mine, taken = accept_unitary(campaign, recipient("a@example.com"), recipient("b@example.com"))
    other_worker = uuid.uuid4()

    def take_back(outgoing: Outgoing) -> None:
        if outgoing.message_id == taken.pk:
            Message.objects.filter(pk=taken.pk).update(claim_token=other_worker)

    transport.before_each = take_back

    # when this worker records their outcomes
    message_send_batch(message_ids=ids([mine, taken]))

    # then only its own message is written and counted; the other stays with its new
    # sender (its attempt is logged, as the portable path logs it)
    mine.refresh_from_db()
    taken.refresh_from_db()
    assert (mine.status, mine.claim_token) == ("sent", None)
    assert (taken.status, taken.claim_token, taken.provider_message_id) == (
        "sending",
        other_worker,
        "",
    )
    assert _counters(campaign) == {("sent", ""): 1}
    assert MessageAttempt.objects.filter(message=mine).count() == 1


def test_an_email_whose_event_an_endpoint_wants_queues_it(live_campaign, monkeypatch) -> None:
    # given an endpoint that wants "sent" events
    monkeypatch.setattr("delivery.webhooks.queue.webhook_send_on_commit", lambda *_args: None)
    endpoint = endpoint_for("https://hooks.example/clarion", types=["sent"])
    _one_by_one(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    # when the email is sent
    message_send_batch(message_ids=ids([message]))

    # then its event is queued with its outcome and counter, in one transaction
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint_id, delivery.message_id, delivery.event_type) == (
        endpoint.pk,
        message.pk,
        "sent",
    )
    message.refresh_from_db()
    assert message.status == "sent"
    assert _counters(campaign) == {("sent", ""): 1}
