"""Email providers' feedback through django-anymail: events mapped to statuses, events,
suppressions, report counts and webhooks; a real Postmark payload posted to the real
webhook URL, with and without the basic-auth secret.

Anymail's test backend does not simulate webhooks, so most tests build the
``AnymailTrackingEvent`` and send the ``tracking`` signal, as anymail's views do.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent, tracking

from audiences.models import Consent, Suppression
from delivery.models import Message, MessageEvent, ReportCounter, WebhookDelivery
from delivery.services.provider_events import anymail_event_record
from tests.delivery.webhook_helpers import endpoint_for, send_messages

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
SECRET = "clarion:s3cret-webhook-pass"


def _event(message: Message, event_type: str, **fields: Any) -> AnymailTrackingEvent:
    fields.setdefault("event_id", f"evt-{event_type}")
    fields.setdefault("metadata", {"clarion_message_id": str(message.pk)})
    fields.setdefault("esp_event", {})
    return AnymailTrackingEvent(event_type=event_type, timestamp=AT, **fields)


def _signal(event: AnymailTrackingEvent, esp_name: str = "SendGrid") -> None:
    tracking.send(sender=object, event=event, esp_name=esp_name)


def _counts(message: Message) -> dict[tuple[str, str], int]:
    return {
        (row.metric, row.key): row.count
        for row in ReportCounter.objects.filter(campaign_id=message.campaign_id)
        if row.metric not in ("targeted", "sent")
    }


@pytest.fixture
def message(live_campaign, monkeypatch) -> Message:
    campaign = live_campaign(create_new_profiles=True)
    [sent] = send_messages(campaign, monkeypatch, "ana@example.com")
    return sent


def test_delivered_then_complained_moves_the_status_forward_and_suppresses(message) -> None:
    endpoint_for("https://hooks.example.com/x", types=["delivered", "complained"])

    _signal(_event(message, "delivered"))
    _signal(_event(message, "complained", description="abuse report"))

    message.refresh_from_db()
    assert (message.status, message.feedback_at is not None) == ("complained", True)
    events = list(
        MessageEvent.objects.order_by("pk").values_list(
            "type", "provider", "provider_event_id", "first"
        )
    )
    assert events == [
        ("delivered", "sendgrid", "evt-delivered", True),
        ("complained", "sendgrid", "evt-complained", True),
    ]
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        "email",
        "ana@example.com",
        "complaint",
    )
    assert _counts(message) == {("delivered", ""): 1, ("complained", ""): 1}
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "complained",
        "delivered",
    ]


def test_an_event_delivered_twice_is_recorded_and_counted_once(message) -> None:
    endpoint_for("https://hooks.example.com/x", types=["opened"])

    _signal(_event(message, "opened", event_id="open-1"))
    _signal(_event(message, "opened", event_id="open-1"))
    _signal(_event(message, "opened", event_id="open-2"))

    assert MessageEvent.objects.filter(type="opened").count() == 2
    assert _counts(message) == {("opened", ""): 2, ("opened_unique", ""): 1}
    assert WebhookDelivery.objects.count() == 2


def test_a_hard_bounce_bounces_and_suppresses(message) -> None:
    _signal(_event(message, "bounced", mta_response="550 5.1.1 no such user"))

    message.refresh_from_db()
    assert message.status == "bounced"
    event = MessageEvent.objects.get()
    assert (event.type, event.reason, event.detail) == ("bounced", "hard", "550 5.1.1 no such user")
    assert Suppression.objects.get().reason == "hard_bounce"
    assert _counts(message) == {("bounced", "hard"): 1}


def test_a_soft_bounce_is_an_event_and_leaves_the_status(message) -> None:
    _signal(_event(message, "deferred", event_id="d1"))
    _signal(_event(message, "deferred", event_id="d2"))

    message.refresh_from_db()
    assert message.status == "sent"
    assert Suppression.objects.count() == 0
    assert _counts(message) == {("bounced", "soft"): 2}


def test_a_rejection_fails_the_message_with_reason_rejected(message) -> None:
    endpoint_for("https://hooks.example.com/x", types=["failed"])

    _signal(_event(message, "rejected", description="address on the provider's list"))

    message.refresh_from_db()
    assert (message.status, message.reason) == ("failed", "rejected")
    assert _counts(message) == {("rejected", ""): 1}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.payload["data"]["reason"]) == ("failed", "rejected")


def test_the_status_never_moves_back(message) -> None:
    _signal(_event(message, "bounced"))
    _signal(_event(message, "delivered"))

    message.refresh_from_db()
    assert message.status == "bounced"
    assert MessageEvent.objects.count() == 2


def test_opens_and_clicks_count_like_clarions_own_with_the_machine_flag(message) -> None:
    _signal(_event(message, "opened", event_id="o1", esp_event={"sg_machine_open": True}))
    _signal(_event(message, "opened", event_id="o2", user_agent="Mozilla/5.0"))
    _signal(_event(message, "clicked", event_id="c1", click_url="https://shop.example/a"))

    opened = list(
        MessageEvent.objects.filter(type="opened").order_by("pk").values_list("machine", "first")
    )
    assert opened == [(True, True), (False, True)]
    click = MessageEvent.objects.get(type="clicked")
    assert (click.url, click.machine) == ("https://shop.example/a", False)
    assert _counts(message) == {
        ("opened_machine", ""): 1,
        ("opened_machine_unique", ""): 1,
        ("opened", ""): 1,
        ("opened_unique", ""): 1,
        ("clicked", "0"): 1,
        ("clicked_unique", "0"): 1,
        ("clicked_messages", ""): 1,
    }


def test_an_unsubscribe_at_the_provider_opts_the_address_out(message) -> None:
    _signal(_event(message, "unsubscribed", recipient="ana@example.com"))

    assert Suppression.objects.get().reason == "unsubscribed"
    assert Consent.objects.get(profile=message.profile, channel="email").status == "opted_out"
    event = MessageEvent.objects.get()
    assert (event.type, event.reason) == ("unsubscribed", "sendgrid_unsubscribe")


def test_an_event_without_metadata_finds_its_message_by_the_provider_id(message) -> None:
    assert message.provider_message_id == "fake-1"

    recorded = anymail_event_record(
        event=_event(message, "delivered", metadata={}, message_id="fake-1"), esp_name="Mailgun"
    )

    assert recorded is True
    message.refresh_from_db()
    assert message.status == "delivered"


def test_an_event_about_no_clarion_message_changes_nothing(message) -> None:
    recorded = anymail_event_record(
        event=_event(message, "bounced", metadata={}, message_id="someone-else"),
        esp_name="Mailgun",
    )

    assert recorded is False
    assert (MessageEvent.objects.count(), Suppression.objects.count()) == (0, 0)


# --- The real webhook URL, with Postmark's payload --------------------------------------

POSTMARK_URL = "/hooks/anymail/postmark/tracking/"


def _postmark_bounce(message: Message) -> dict[str, Any]:
    """Postmark's bounce webhook body (postmarkapp.com/developer/webhooks/bounce-webhook)."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "Test",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"clarion_message_id": str(message.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "ana@example.com",
        "From": "news@example.com",
        "BouncedAt": "2026-11-29T10:15:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Hello",
    }


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def test_a_postmark_bounce_with_the_secret_bounces_the_message(client, settings, message) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}

    response = client.post(
        POSTMARK_URL,
        _postmark_bounce(message),
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic(SECRET),
    )

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "bounced"
    event = MessageEvent.objects.get()
    assert (event.provider, event.provider_event_id) == ("postmark", "4323372036854775807")
    assert Suppression.objects.get().reason == "hard_bounce"


@pytest.mark.parametrize("authorization", [None, _basic("clarion:wrong"), "Bearer " + SECRET])
def test_a_postmark_webhook_without_the_secret_is_refused(
    client, settings, message, authorization
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(
        POSTMARK_URL, _postmark_bounce(message), content_type="application/json", **extra
    )

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.status == "sent"
    assert (MessageEvent.objects.count(), Suppression.objects.count()) == (0, 0)


def test_without_a_configured_secret_every_provider_webhook_is_refused(
    client, settings, message
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": []}

    response = client.post(
        POSTMARK_URL,
        _postmark_bounce(message),
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic(SECRET),
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"
    assert MessageEvent.objects.count() == 0


def test_a_malformed_body_is_a_400_not_a_500(client, settings, message) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}

    response = client.post(
        POSTMARK_URL,
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic(SECRET),
    )

    assert response.status_code == 400
    assert MessageEvent.objects.count() == 0


def test_outgoing_email_carries_the_clarion_id_as_anymail_metadata() -> None:
    import uuid

    from delivery.channels.base import Outgoing
    from delivery.channels.email import email_build

    message_id = uuid.uuid4()
    email = email_build(
        Outgoing(
            message_id=message_id,
            channel="email",
            address="ana@example.com",
            parts={"subject": "Hi", "text": "Hi"},
            channel_settings={},
        )
    )

    assert email.metadata == {"clarion_message_id": str(message_id)}  # type: ignore[attr-defined]
