"""Erasure: a person's messages forget them, but keep their status for the counts."""

from __future__ import annotations

from uuid import UUID

from delivery.models import Message, MessageAttempt, MessageEvent, WebhookAttempt, WebhookDelivery

# What an outbound webhook event's data may hold about a person (docs/webhooks.md).
_PERSONAL_PAYLOAD_FIELDS = ("userId", "url")


def messages_forget_profile(profile_id: UUID) -> int:
    """Blank every personal datum on the profile's messages; returns how many changed.

    Runs inside ``profile_delete``'s transaction (registered in ``DeliveryConfig.ready``).
    """
    messages = Message.objects.filter(profile_id=profile_id)
    # Providers' replies quote the address ("550 <ana@example.com>: no such user").
    MessageAttempt.objects.filter(message__in=messages).update(detail="")
    # Tracked links are often personalised (?email=...): their targets go, and with them
    # the redirects (a click answers 404); the events keep their type, time and link
    # number, but not who clicked (network, browser) nor a provider's words about them.
    MessageEvent.objects.filter(message__in=messages).update(
        url="", user_agent="", ip="", detail=""
    )
    _webhook_payloads_forget(list(messages.values_list("pk", flat=True)))
    return messages.update(
        reason_detail="",
        profile=None,
        address="",
        user_id="",
        push_info=None,
        recipient_profile={},
        recipient_context={},
        links=[],
    )


def _webhook_payloads_forget(message_ids: list[UUID]) -> None:
    """Drop the person from the webhook events of ``message_ids`` (also those still to be
    sent, which then go without it), and from what receivers answered to them."""
    deliveries = list(
        WebhookDelivery.objects.filter(message_id__in=message_ids).only("pk", "payload")
    )
    for delivery in deliveries:
        data = delivery.payload.get("data", {}) if isinstance(delivery.payload, dict) else {}
        for field in _PERSONAL_PAYLOAD_FIELDS:
            if field in data:
                data[field] = ""
    WebhookDelivery.objects.bulk_update(deliveries, ["payload"], batch_size=500)
    WebhookAttempt.objects.filter(delivery__in=deliveries).update(response_excerpt="")
