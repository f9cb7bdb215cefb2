"""Outbound webhooks end to end against a real local HTTP receiver: the payload, the
Standard Webhooks signature (checked by the reference library and by a receiver
written from docs/webhooks.md), retries on schedule, disabling, the test event."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from delivery.limits import WEBHOOK_CLAIM_LEASE, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_DELAYS
from delivery.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from delivery.webhooks.sending import (
    webhook_deliveries_due,
    webhook_deliveries_send,
    webhook_endpoint_test,
)
from tests.delivery.webhook_helpers import Receiver, endpoint_for, receiver, send_messages

__all__ = ["receiver"]

pytestmark = pytest.mark.django_db


def _send_pending() -> dict[str, int]:
    """Run the send task of every claimed delivery (what the published tasks would do)."""
    counts: dict[str, int] = {}
    for token in set(
        WebhookDelivery.objects.filter(claim_token__isnull=False).values_list(
            "claim_token", flat=True
        )
    ):
        ids = [
            str(pk)
            for pk in WebhookDelivery.objects.filter(claim_token=token).values_list("pk", flat=True)
        ]
        assert token is not None
        for key, value in webhook_deliveries_send(delivery_ids=ids, token=token).items():
            counts[key] = counts.get(key, 0) + value
    return counts


def _verify_from_the_docs(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver written from docs/webhooks.md alone ("Verifying a request")."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 5 * 60:
        return False
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def test_a_sent_message_reaches_the_receiver_signed_with_every_field(
    receiver: Receiver, live_campaign, monkeypatch
) -> None:
    # given an endpoint for "sent" events and a campaign
    endpoint = endpoint_for(receiver.url, types=["sent"])
    campaign = live_campaign(create_new_profiles=True)

    # when a message is sent and its webhook delivery is tried
    [message] = send_messages(campaign, monkeypatch, "ana@example.com")
    counts = _send_pending()

    # then the receiver got one POST with the exact payload
    assert counts == {"succeeded": 1, "pending": 0, "failed": 0, "held": 0}
    [request] = receiver.requests
    delivery = WebhookDelivery.objects.get()
    payload = json.loads(request.body)
    assert payload == {
        "id": str(delivery.event_id),
        "type": "sent",
        "timestamp": payload["timestamp"],
        "data": {
            "messageId": str(message.pk),
            "executionId": str(message.execution_id),
            "requestId": message.execution.request_id,
            "campaignId": str(campaign.pk),
            "campaignVersion": 1,
            "userId": "ana@example.com",
            "namespace": "email",
            "channel": "email",
            "reason": "",
            "attempts": 1,
        },
    }
    assert payload["timestamp"].endswith("Z")
    assert request.path == "/hooks/clarion?source=test"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Clarion-Webhooks/1.0")
    assert request.headers["webhook-id"] == str(delivery.event_id)
    # and the signature is verified by the Standard Webhooks library...
    verified = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert verified == payload
    # ...and by a receiver written from the docs alone
    assert _verify_from_the_docs(endpoint.secret, request.headers, request.body) is True
    assert _verify_from_the_docs(endpoint.secret, request.headers, request.body + b" ") is False
    # and the delivery and its attempt are logged
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.claim_token) == (
        "succeeded",
        1,
        None,
        None,
    )
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.succeeded, attempt.status_code, attempt.error) == (
        1,
        True,
        200,
        "",
    )
    assert attempt.response_excerpt == '{"ok": true}'
    endpoint.refresh_from_db()
    assert endpoint.last_success_at == attempt.at


def test_a_wrong_secret_fails_verification(receiver: Receiver, live_campaign, monkeypatch) -> None:
    endpoint_for(receiver.url, types=["sent"])
    send_messages(live_campaign(create_new_profiles=True), monkeypatch, "ana@example.com")
    _send_pending()
    [request] = receiver.requests
    other = "whsec_" + base64.b64encode(b"k" * 32).decode()

    assert _verify_from_the_docs(other, request.headers, request.body) is False
    with pytest.raises(Exception, match="No matching signature found"):
        Webhook(other).verify(request.body, request.headers)


def _run_due(at) -> None:
    """The periodic task at time ``at``, then the send tasks it published."""
    webhook_deliveries_due(now=at)
    _send_pending()


def test_failures_are_retried_on_schedule_with_the_same_id_then_the_endpoint_is_disabled(
    receiver: Receiver, live_campaign, monkeypatch
) -> None:
    # given an endpoint made two days ago that never succeeded, and a receiver that fails
    endpoint = endpoint_for(receiver.url, types=["sent"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    receiver.answer(*([500] * (WEBHOOK_MAX_ATTEMPTS - 1)), 302)
    send_messages(live_campaign(create_new_profiles=True), monkeypatch, "ana@example.com")
    publishes: list[tuple[list[str], str]] = []
    monkeypatch.setattr(
        "delivery.webhooks.sending.webhook_publish",
        lambda ids, token: publishes.append((list(ids), str(token))),
    )

    # when the first try fails
    _send_pending()
    delivery = WebhookDelivery.objects.get()
    first_try = delivery.last_attempt_at
    assert first_try is not None
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == first_try + WEBHOOK_RETRY_DELAYS[1]

    # then nothing is due before its time
    assert webhook_deliveries_due(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
    # and each retry is claimed by the periodic task when due, until the last one
    for number in range(2, WEBHOOK_MAX_ATTEMPTS + 1):
        delivery.refresh_from_db()
        due_at = delivery.next_attempt_at
        assert webhook_deliveries_due(now=due_at) == 1
        ids, token = publishes[-1]
        assert ids == [str(delivery.pk)]
        # a second run while it is claimed does not take it again
        assert webhook_deliveries_due(now=due_at) == 0
        webhook_deliveries_send(delivery_ids=ids, token=uuid.UUID(token))
        delivery.refresh_from_db()
        assert delivery.attempts == number
        if number < WEBHOOK_MAX_ATTEMPTS:
            assert delivery.next_attempt_at is not None and delivery.last_attempt_at is not None
            assert (
                delivery.next_attempt_at - delivery.last_attempt_at == WEBHOOK_RETRY_DELAYS[number]
            )

    # then 8 requests went, all with the same webhook-id, a new timestamp each
    assert len(receiver.requests) == WEBHOOK_MAX_ATTEMPTS == 8
    assert {r.headers["webhook-id"] for r in receiver.requests} == {str(delivery.event_id)}
    for request in receiver.requests:
        assert Webhook(endpoint.secret).verify(request.body, request.headers)
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    statuses = list(WebhookAttempt.objects.order_by("number").values_list("status_code", flat=True))
    assert statuses == [500] * 7 + [302]
    # and the redirect was not followed (to a metadata address, at that)
    assert len(receiver.requests) == 8
    # and the endpoint is disabled with its reason
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason.startswith(
        f"Event {delivery.event_id} failed all 8 attempts, and no request to this endpoint "
        "has succeeded since "
    )


def test_an_endpoint_that_succeeded_lately_is_not_disabled(
    receiver: Receiver, live_campaign, monkeypatch
) -> None:
    # given an endpoint that answered a 2xx an hour ago, and a delivery on its last try
    endpoint = endpoint_for(receiver.url, types=["sent"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        created_at=timezone.now() - timedelta(days=2),
        last_success_at=timezone.now() - timedelta(hours=1),
    )
    send_messages(live_campaign(create_new_profiles=True), monkeypatch, "ana@example.com")
    WebhookDelivery.objects.update(attempts=WEBHOOK_MAX_ATTEMPTS - 1)
    receiver.answer(503)

    # when the last try fails
    _send_pending()

    # then the delivery failed, the endpoint stays enabled
    assert WebhookDelivery.objects.get().status == "failed"
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")


def test_a_disabled_endpoint_gets_nothing_new_and_its_pending_deliveries_wait(
    receiver: Receiver, live_campaign, monkeypatch
) -> None:
    # given a pending delivery, then the endpoint disabled
    endpoint = endpoint_for(receiver.url, types=["sent"])
    campaign = live_campaign(create_new_profiles=True)
    send_messages(campaign, monkeypatch, "ana@example.com")
    endpoint.enabled = False
    endpoint.save()
    from delivery.webhooks.endpoints import webhook_endpoints_changed, webhook_endpoints_enable

    webhook_endpoints_changed()

    # when its send task runs, and another message is sent
    counts = _send_pending()
    send_messages(campaign, monkeypatch, "ben@example.com")

    # then nothing was requested, nothing new queued, the delivery waits, due
    assert counts["held"] == 1
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 1
    assert webhook_deliveries_due(now=timezone.now() + WEBHOOK_CLAIM_LEASE) == 0
    # and once enabled again it goes
    assert webhook_endpoints_enable(endpoints=[endpoint]) == 1
    _run_due(timezone.now())
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_a_lost_publish_is_made_good_after_the_lease(
    receiver: Receiver, live_campaign, monkeypatch
) -> None:
    # given a delivery whose first publish was lost (nothing ran its send task)
    endpoint_for(receiver.url, types=["sent"])
    send_messages(live_campaign(create_new_profiles=True), monkeypatch, "ana@example.com")

    # then the periodic task leaves it while the lease runs, and takes it after
    assert webhook_deliveries_due(now=timezone.now()) == 0
    _run_due(timezone.now() + WEBHOOK_CLAIM_LEASE + timedelta(seconds=1))
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_the_test_event_is_sent_signed_at_once_and_never_retried(receiver: Receiver) -> None:
    endpoint = endpoint_for(receiver.url, types=["sent"], name="CRM")
    receiver.answer(500)

    failed = webhook_endpoint_test(endpoint=endpoint)
    succeeded = webhook_endpoint_test(endpoint=endpoint)

    assert (failed.status, failed.attempt.status_code) == ("failed", 500)
    assert (succeeded.status, succeeded.attempt.status_code) == ("succeeded", 200)
    payload = Webhook(endpoint.secret).verify(
        receiver.requests[1].body, receiver.requests[1].headers
    )
    assert (payload["type"], payload["data"]) == ("test", {"endpoint": "CRM"})
    assert list(
        WebhookDelivery.objects.values_list("status", "next_attempt_at", "claim_token")
    ) == [
        ("succeeded", None, None),
        ("failed", None, None),
    ]
    endpoint.refresh_from_db()
    assert endpoint.enabled is True
