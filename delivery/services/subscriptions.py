"""Unsubscribing from marketing, and subscribing again, for one address on one channel.

An unsubscribe link or ``List-Unsubscribe`` POST (RFC 8058), or an SMS reply STOP,
opts the address out: the profiles it belongs to get ``opted_out`` consent for the
channel, and the address goes on the suppression list (``unsubscribed``), so the
next marketing send to it is excluded with reason ``suppressed`` even when no
profile holds it. Subscribing again undoes both, but never lifts a hard bounce or
a complaint.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audiences.models import Consent, Profile, Suppression
from audiences.services.profiles import consent_set
from audiences.services.suppressions import suppression_add
from core.channels import Channel
from delivery.models import EventType, Message, MessageEvent
from delivery.services.events import message_event_add
from delivery.services.happenings import Happening, happenings_record


def _profiles(channel: str, address: str, message: Message | None) -> QuerySet[Profile]:
    """The profiles ``address`` reaches on ``channel`` (and the message's own)."""
    query = Q(pk=message.profile_id) if message is not None and message.profile_id else Q()
    if channel == Channel.EMAIL:
        query |= Q(email_address__iexact=address)
    elif channel == Channel.SMS:
        query |= Q(mobile_number=address)
    return Profile.objects.filter(query) if query else Profile.objects.none()


def _event(message: Message | None, kind: str, source: str) -> None:
    if message is None:
        return
    now = timezone.now()
    event = MessageEvent(message=message, type=kind, at=now, reason=source[:64])
    if message_event_add(event=event) and not message.execution.is_test:
        # Counted once per message: the first unsubscribe (or subscribe again) it led to.
        happenings_record(happenings=[Happening(type=kind, message=message, at=now, first=True)])


def _consent_to(
    *, channel: str, address: str, message: Message | None, status: str, source: str
) -> bool:
    """Set ``status`` consent on the profiles ``address`` reaches; True when one changed."""
    changed = False
    for profile in _profiles(channel, address, message):
        current = Consent.objects.filter(profile=profile, channel=channel).first()
        if current is None or current.status != status:
            consent_set(profile=profile, channel=channel, status=status, source=source)
            changed = True
    return changed


def address_unsubscribe(
    *, channel: str, address: str, source: str, message: Message | None = None
) -> bool:
    """Opt ``address`` out of marketing on ``channel``; False when it was out already.

    ``message`` is the message it came from (its link, its ``List-Unsubscribe``, the
    last SMS before a STOP): it gets an ``unsubscribed`` event, counted in its
    campaign's report and sent to webhooks. ``source`` says how (``link``,
    ``one_click``, ``sms_stop``...). An empty address (an erased message, a request
    without a sender) changes nothing: it would match every profile without one.
    """
    if not address:
        return False
    with transaction.atomic():
        added = suppression_add(
            channel=channel, address=address, reason=Suppression.Reason.UNSUBSCRIBED, note=source
        )
        consented = _consent_to(
            channel=channel,
            address=address,
            message=message,
            status=Consent.Status.OPTED_OUT,
            source=source,
        )
        changed = added or consented
        if changed:
            _event(message, EventType.UNSUBSCRIBED, source)
    return changed


def address_resubscribe(
    *, channel: str, address: str, source: str, message: Message | None = None
) -> bool:
    """Opt ``address`` back in on ``channel``; False when nothing changed (or no address).

    Lifts only an ``unsubscribed`` suppression: a hard bounce or a complaint stays.
    """
    if not address:
        return False
    with transaction.atomic():
        deleted, _per_model = Suppression.objects.filter(
            channel=channel, address=address, reason=Suppression.Reason.UNSUBSCRIBED
        ).delete()
        consented = _consent_to(
            channel=channel,
            address=address,
            message=message,
            status=Consent.Status.OPTED_IN,
            source=source,
        )
        changed = deleted > 0 or consented
        if changed:
            _event(message, EventType.RESUBSCRIBED, source)
    return changed
