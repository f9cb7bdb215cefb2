"""Erasure: a person's messages forget them, but keep their status for the counts."""

from __future__ import annotations

from uuid import UUID

from delivery.models import Message


def messages_forget_profile(profile_id: UUID) -> int:
    """Blank every personal datum on the profile's messages; returns how many changed.

    Runs inside ``profile_delete``'s transaction (registered in ``DeliveryConfig.ready``).
    """
    return Message.objects.filter(profile_id=profile_id).update(
        profile=None,
        address="",
        user_id="",
        push_info=None,
        recipient_profile={},
        recipient_context={},
    )
