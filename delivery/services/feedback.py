"""Provider feedback: what an email service provider or Twilio says became of a message.

Each piece of feedback is a ``MessageEvent`` (the provider and its event id: a
webhook delivered twice is stored, counted and sent on once) and, in the same
transaction, a happening (report rollups, outbound webhooks). It moves the
message's status forward only:

    sent -> delivered -> complained        sent, delivered -> bounced
    sent -> failed (the provider rejected it: reason ``rejected``)

so feedback that arrives late or out of order (a "delivered" after a complaint)
is recorded as an event and leaves the status alone. Hard bounces and complaints
put the address on the suppression list; an unsubscribe reported by the provider
opts the address out (``address_unsubscribe``).

Status-like feedback (delivered, bounced, complained, rejected) is counted once per
message, the first time; opens, clicks and soft bounces (deferred) each time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from audiences.models import Suppression
from audiences.services.suppressions import suppression_add
from delivery.models import EventType, Message, MessageEvent, MessageStatus
from delivery.services.events import message_event_add
from delivery.services.happenings import Happening, happenings_record
from delivery.services.subscriptions import address_unsubscribe
from delivery.services.tracking import message_click_first

logger = logging.getLogger(__name__)

# The status each kind of feedback moves a message to, and the statuses it may move from.
_MOVES: dict[str, tuple[str, tuple[str, ...]]] = {
    EventType.DELIVERED: (MessageStatus.DELIVERED, (MessageStatus.SENT,)),
    EventType.BOUNCED: (MessageStatus.BOUNCED, (MessageStatus.SENT, MessageStatus.DELIVERED)),
    EventType.COMPLAINED: (
        MessageStatus.COMPLAINED,
        (MessageStatus.SENT, MessageStatus.DELIVERED),
    ),
    EventType.REJECTED: (MessageStatus.FAILED, (MessageStatus.SENT,)),
}
# Counted the first time only: a message is delivered (or bounces...) once.
_ONCE = frozenset(_MOVES)
# A bounce in the reports is "hard"; a deferral is the "soft" one (counting.py).
_BOUNCE_HARD = "hard"
# Suppressions that also block transactional sends win over an "unsubscribed" one.
_ESCALATES = (Suppression.Reason.HARD_BOUNCE, Suppression.Reason.COMPLAINT)


@dataclass(frozen=True)
class Feedback:
    """One event from a provider about one message.

    ``event_id`` identifies it at the provider (a repeated webhook has the same one).
    ``code`` becomes the message's reason when its status moves (``rejected``,
    ``twilio_30003``...); ``suppress`` puts the address on the suppression list
    (bounces: hard ones only).
    """

    provider: str
    type: str
    at: datetime
    event_id: str
    detail: str = ""
    code: str = ""
    url: str = ""
    user_agent: str = ""
    machine: bool = False
    suppress: bool = False
    address: str = ""  # as the provider names the recipient (unsubscribes)
    extra: dict[str, str] = field(default_factory=dict)


def message_for_feedback(*, message_id: str | None, provider_message_id: str) -> Message | None:
    """The message feedback is about: by Clarion's id (the metadata sent with it) first,
    else by the provider's message id."""
    messages = Message.objects.select_related("execution")
    if message_id:
        try:
            found = messages.filter(pk=UUID(str(message_id))).first()
        except ValueError:
            found = None
        if found is not None:
            return found
    if provider_message_id:
        return messages.filter(provider_message_id=provider_message_id).order_by("-sent_at").first()
    return None


def _suppress(message: Message, reason: str, note: str) -> None:
    if not suppression_add(
        channel=message.channel, address=message.address, reason=reason, note=note[:500]
    ):
        # Already there: a hard bounce or complaint outranks an unsubscribe (it also
        # blocks transactional sends).
        Suppression.objects.filter(
            channel=message.channel,
            address=message.address,
            reason=Suppression.Reason.UNSUBSCRIBED,
        ).update(reason=reason)


def message_feedback_record(*, message: Message, feedback: Feedback) -> bool:
    """Record ``feedback`` about ``message``; False when it was recorded before."""
    if feedback.type == EventType.UNSUBSCRIBED:
        return address_unsubscribe(
            channel=message.channel,
            address=feedback.address or message.address,
            source=f"{feedback.provider}_unsubscribe",
            message=message,
        )
    with transaction.atomic():
        event = MessageEvent(
            message=message,
            type=feedback.type,
            at=feedback.at,
            url=feedback.url,
            machine=feedback.machine,
            user_agent=feedback.user_agent[:512],
            provider=feedback.provider[:32],
            provider_event_id=feedback.event_id[:255],
            reason=(_BOUNCE_HARD if feedback.type == EventType.BOUNCED else feedback.code)[:64],
            detail=feedback.detail,
        )
        first = message_event_add(event=event)
        if event.pk is None:  # the provider sent this one before
            return False
        move = _MOVES.get(feedback.type)
        if move is not None:
            status, before = move
            values: dict[str, object] = {"status": status, "feedback_at": timezone.now()}
            if feedback.code:
                values["reason"] = feedback.code[:64]
                values["reason_detail"] = feedback.detail
            moved = Message.objects.filter(pk=message.pk, status__in=before).update(**values)
            if moved:
                message.status = status
        if feedback.type == EventType.BOUNCED and feedback.suppress:
            _suppress(message, Suppression.Reason.HARD_BOUNCE, feedback.detail)
        elif feedback.type == EventType.COMPLAINED:
            _suppress(message, Suppression.Reason.COMPLAINT, feedback.detail)
        # An email provider's click: its link is 0 (the provider tracked it, not Clarion),
        # but it is the message's first click exactly as one of Clarion's own would be.
        first_of_message = first
        if feedback.type == EventType.CLICKED:
            first_of_message = message_click_first(
                message=message, at=feedback.at, machine=feedback.machine, first_link=first
            )
        counted = first or feedback.type not in _ONCE
        if counted and not message.execution.is_test:
            happenings_record(
                happenings=[
                    Happening(
                        type=feedback.type,
                        message=message,
                        at=feedback.at,
                        reason=_BOUNCE_HARD
                        if feedback.type == EventType.BOUNCED
                        else feedback.code,
                        url=feedback.url,
                        machine=feedback.machine,
                        first=first_of_message,
                        first_link=first,
                    )
                ]
            )
    return True
