"""Exclusions: marketing needs consent, an unsuppressed address and an address at all;
transactional messages are stopped only by hard bounces and complaints."""

from __future__ import annotations

import pytest

from audiences.models import Suppression
from delivery.models import Message, MessageAttempt
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import (
    accept_unitary,
    by_address,
    fan_out,
    person,
    recipient,
    static_audience,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db


def _suppress(address: str, reason: str, channel: str = "email") -> None:
    Suppression.objects.create(channel=channel, address=address, reason=reason)


def test_marketing_skips_no_consent_suppressed_and_no_address(
    live_campaign, monkeypatch, published
) -> None:
    # given an audience of seven, one of each kind
    transport = use_fake_transport(monkeypatch)
    people = [
        person("ok@example.com", consent={"email": "opted_in"}),
        person("none@example.com"),  # no consent recorded
        person("out@example.com", consent={"email": "opted_out"}),
        person("sms-only@example.com", consent={"sms": "opted_in"}),  # not for email
        person("unsub@example.com", consent={"email": "opted_in"}),
        person("bounced@example.com", consent={"email": "opted_in"}),
        person("", consent={"email": "opted_in"}, identities={"crm_id": "C-9"}),  # no email
    ]
    _suppress("unsub@example.com", "unsubscribed")
    _suppress("bounced@example.com", "hard_bounce")
    campaign = live_campaign(category="marketing", audience=static_audience("All", people))
    execution = fan_out(campaign)
    [batch] = published

    # when the batch is sent
    outcome = message_send_batch(message_ids=batch)

    # then only the consenting, reachable, unsuppressed profile got it
    assert (outcome.sent, outcome.failed, outcome.excluded) == (1, 0, 6)
    assert transport.addresses() == ["ok@example.com"]
    found = {
        m.address: (m.status, m.reason, m.reason_detail, m.attempts)
        for m in Message.objects.filter(execution=execution)
    }
    assert found == {
        "ok@example.com": ("sent", "", "", 1),
        "none@example.com": ("excluded", "no_consent", "", 0),
        "out@example.com": ("excluded", "no_consent", "", 0),
        "sms-only@example.com": ("excluded", "no_consent", "", 0),
        "unsub@example.com": ("excluded", "suppressed", "unsubscribed", 0),
        "bounced@example.com": ("excluded", "suppressed", "hard_bounce", 0),
        "": ("excluded", "no_address", "", 0),
    }
    # and excluded messages have no attempt
    assert list(MessageAttempt.objects.values_list("message__address", "outcome")) == [
        ("ok@example.com", "sent")
    ]


@pytest.mark.parametrize("reason", ["unsubscribed", "hard_bounce", "complaint", "manual"])
def test_marketing_skips_every_suppression_reason(
    live_campaign, monkeypatch, published, reason: str
) -> None:
    transport = use_fake_transport(monkeypatch)
    profile = person("ana@example.com", consent={"email": "opted_in"})
    _suppress("ana@example.com", reason)
    campaign = live_campaign(category="marketing", audience=static_audience("A", [profile]))
    execution = fan_out(campaign)

    outcome = message_send_batch(message_ids=published[0])

    assert (outcome.sent, outcome.excluded) == (0, 1)
    assert transport.calls == []
    message = by_address(execution.pk)["ana@example.com"]
    assert (message.status, message.reason, message.reason_detail) == (
        "excluded",
        "suppressed",
        reason,
    )
    assert MessageAttempt.objects.count() == 0


def test_a_suppression_on_another_channel_does_not_exclude(
    live_campaign, monkeypatch, published
) -> None:
    transport = use_fake_transport(monkeypatch)
    profile = person("ana@example.com", consent={"email": "opted_in"})
    _suppress("ana@example.com", "unsubscribed", channel="sms")
    campaign = live_campaign(category="marketing", audience=static_audience("A", [profile]))
    fan_out(campaign)

    outcome = message_send_batch(message_ids=published[0])

    assert (outcome.sent, outcome.excluded) == (1, 0)
    assert transport.addresses() == ["ana@example.com"]


def test_transactional_is_stopped_only_by_hard_bounces_and_complaints(
    live_campaign, monkeypatch
) -> None:
    # given recipients suppressed for each reason, and one who opted out of email
    transport = use_fake_transport(monkeypatch)
    _suppress("unsub@example.com", "unsubscribed")
    _suppress("manual@example.com", "manual")
    _suppress("bounced@example.com", "hard_bounce")
    _suppress("complained@example.com", "complaint")
    person("opted-out@example.com", consent={"email": "opted_out"})
    campaign = live_campaign(create_new_profiles=True)
    addresses = [
        "unsub@example.com",
        "manual@example.com",
        "bounced@example.com",
        "complained@example.com",
        "opted-out@example.com",
    ]
    messages = accept_unitary(campaign, *(recipient(a) for a in addresses))

    # when the receipts are sent
    outcome = message_send_batch(message_ids=[str(m.pk) for m in messages])

    # then an unsubscribe or a missing consent does not block a transactional message
    assert (outcome.sent, outcome.excluded) == (3, 2)
    assert transport.addresses() == [
        "unsub@example.com",
        "manual@example.com",
        "opted-out@example.com",
    ]
    found = {
        m.address: (m.status, m.reason, m.reason_detail)
        for m in Message.objects.filter(execution=messages[0].execution_id)
    }
    assert found == {
        "unsub@example.com": ("sent", "", ""),
        "manual@example.com": ("sent", "", ""),
        "bounced@example.com": ("excluded", "suppressed", "hard_bounce"),
        "complained@example.com": ("excluded", "suppressed", "complaint"),
        "opted-out@example.com": ("sent", "", ""),
    }
    assert sorted(MessageAttempt.objects.values_list("message__address", flat=True)) == sorted(
        ["unsub@example.com", "manual@example.com", "opted-out@example.com"]
    )
