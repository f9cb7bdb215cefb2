"""What delivery learns about addresses: hard bounces and complaints, tokens that are gone."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from audiences.models import PushRegistration, Suppression


def suppression_add(*, channel: str, address: str, reason: str, note: str = "") -> bool:
    """Put ``address`` on the suppression list; False when it was there already."""
    if not address:
        return False
    if Suppression.objects.filter(channel=channel, address=address).exists():
        return False
    try:
        with transaction.atomic():
            Suppression.objects.create(channel=channel, address=address, reason=reason, note=note)
    except IntegrityError:  # a concurrent bounce of the same address came first
        return False
    return True


def push_registration_forget(*, token: str) -> int:
    """Remove every registration of a push token the push service says is gone."""
    deleted, _per_model = PushRegistration.objects.filter(token=token).delete()
    return deleted
