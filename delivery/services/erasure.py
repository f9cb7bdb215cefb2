"""Erasure: a person's messages forget them, but keep their status for the counts."""

from __future__ import annotations

from uuid import UUID

from delivery.models import Message, MessageAttempt, MessageEvent


def messages_forget_profile(profile_id: UUID) -> int:
    """Blank every personal datum on the profile's messages; returns how many changed.

    Runs inside ``profile_delete``'s transaction (registered in ``DeliveryConfig.ready``).
    """
    messages = Message.objects.filter(profile_id=profile_id)
    # Providers' replies quote the address ("550 <ana@example.com>: no such user").
    MessageAttempt.objects.filter(message__in=messages).update(detail="")
    # Tracked links are often personalised (?email=...): their targets go, and with them
    # the redirects (a click answers 404); the events keep their type, time and link number.
    MessageEvent.objects.filter(message__in=messages).exclude(url="").update(url="")
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
