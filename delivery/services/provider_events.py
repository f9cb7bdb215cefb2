"""Provider webhooks in Clarion's words: django-anymail tracking events, Twilio status
callbacks and SMS replies, each turned into ``Feedback`` (delivery.services.feedback)
or an unsubscribe. The web layer (delivery.inbound) authenticates them first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from anymail.signals import AnymailTrackingEvent
from django.utils import timezone

from core.channels import Channel
from delivery.channels.sms import TWILIO_STOPPED
from delivery.models import MESSAGE_SENT, EventType, Message
from delivery.services.feedback import Feedback, message_feedback_record, message_for_feedback
from delivery.services.subscriptions import address_resubscribe, address_unsubscribe

logger = logging.getLogger(__name__)

# The metadata key Clarion's id travels under (delivery/channels/email.py sets it).
CLARION_METADATA_KEY = "clarion_message_id"

# Anymail's normalized event types that Clarion records; the others (queued, sent,
# autoresponded, subscribed, inbound, unknown) say nothing about the recipient.
# "failed" is the provider giving up before sending: recorded like "rejected".
_ANYMAIL_TYPES = {
    "delivered": EventType.DELIVERED,
    "bounced": EventType.BOUNCED,
    "deferred": EventType.DEFERRED,
    "complained": EventType.COMPLAINED,
    "rejected": EventType.REJECTED,
    "failed": EventType.REJECTED,
    "opened": EventType.OPENED,
    "clicked": EventType.CLICKED,
    "unsubscribed": EventType.UNSUBSCRIBED,
}
# Keys by which a provider's raw event says an open was made by a machine (SendGrid
# flags Apple Mail Privacy Protection's prefetches so).
_MACHINE_OPEN_KEYS = ("sg_machine_open",)


def _esp_event_id(event: AnymailTrackingEvent) -> str:
    """The provider's event id, or a digest of the raw event when it gives none
    (Postmark's delivery events): the same webhook sent twice digests the same."""
    if event.event_id:
        return str(event.event_id)
    raw = json.dumps(event.esp_event, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _machine(event: AnymailTrackingEvent) -> bool:
    raw = event.esp_event
    return isinstance(raw, Mapping) and any(bool(raw.get(key)) for key in _MACHINE_OPEN_KEYS)


def anymail_event_record(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Record one anymail tracking event; False when it is not about a Clarion message,
    of a kind Clarion does not record, or recorded before."""
    kind = _ANYMAIL_TYPES.get(str(event.event_type))
    if kind is None:
        return False
    metadata = event.metadata if isinstance(event.metadata, Mapping) else {}
    message = message_for_feedback(
        message_id=metadata.get(CLARION_METADATA_KEY),
        provider_message_id=str(event.message_id or ""),
    )
    if message is None:
        logger.info("%s %s event for an unknown message %s", esp_name, kind, event.message_id)
        return False
    detail = " ".join(str(part) for part in (event.description, event.mta_response) if part)
    feedback = Feedback(
        provider=esp_name.lower(),
        type=kind,
        at=event.timestamp or timezone.now(),
        event_id=_esp_event_id(event),
        detail=detail,
        code="rejected" if kind == EventType.REJECTED else "",
        url=str(event.click_url or "") if kind == EventType.CLICKED else "",
        user_agent=str(event.user_agent or ""),
        machine=_machine(event) if kind in (EventType.OPENED, EventType.CLICKED) else False,
        # Anymail reports soft bounces as "deferred"; "bounced" is the hard kind.
        suppress=kind == EventType.BOUNCED,
        address=str(event.recipient or ""),
    )
    return message_feedback_record(message=message, feedback=feedback)


# --- Twilio --------------------------------------------------------------------------

# Error codes of an undelivered SMS that mean the number can never receive one: the
# number is suppressed. Others (30003 unreachable handset, 30008 unknown error...) may
# pass another day. https://www.twilio.com/docs/api/errors
TWILIO_DEAD_NUMBER_CODES = frozenset({"30005", "30006"})  # unknown number, landline
_TWILIO_UNDELIVERED = ("undelivered", "failed")


def twilio_status_record(*, params: Mapping[str, str]) -> bool:
    """Record a Twilio status callback (``MessageSid``, ``MessageStatus``, ``ErrorCode``).

    ``delivered`` delivers; ``undelivered`` or ``failed`` after Clarion handed the
    message over is a (hard) bounce with the error code as its reason. Interim
    statuses (queued, sending, sent) change nothing.
    """
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    code = params.get("ErrorCode") or ""
    if status == "delivered":
        kind = EventType.DELIVERED
    elif status in _TWILIO_UNDELIVERED:
        kind = EventType.BOUNCED
    else:
        return False
    message = message_for_feedback(message_id=None, provider_message_id=sid)
    if message is None:
        logger.info("Twilio %s callback for an unknown message %s", status, sid)
        return False
    if kind == EventType.BOUNCED and code == str(TWILIO_STOPPED):
        # The recipient had replied STOP: an unsubscribe, not a dead number.
        return address_unsubscribe(
            channel=Channel.SMS, address=message.address, source="sms_stop", message=message
        )
    feedback = Feedback(
        provider="twilio",
        type=kind,
        at=timezone.now(),
        event_id=f"{sid}:{status}",
        detail=f"{status} {code}".strip(),
        code=f"twilio_{code}" if code else (f"twilio_{status}" if kind != "delivered" else ""),
        suppress=code in TWILIO_DEAD_NUMBER_CODES,
    )
    return message_feedback_record(message=message, feedback=feedback)


# Twilio's and the carriers' opt-out and opt-in keywords (Twilio Advanced Opt-Out's
# defaults, as US carriers require): the whole reply, any case, surrounding spaces.
SMS_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
SMS_START_WORDS = frozenset({"START", "UNSTOP", "YES"})


def _last_sms_to(address: str) -> Message | None:
    return (
        Message.objects.select_related("execution")
        .filter(channel=Channel.SMS, address=address, status__in=MESSAGE_SENT)
        .order_by("-sent_at")
        .first()
    )


def sms_reply_record(*, sender: str, body: str) -> str:
    """An SMS reply: STOP words unsubscribe ``sender``, START words subscribe it again.

    Returns what it was: ``stop``, ``start`` or ``other`` (ignored).
    """
    word = body.strip().upper().rstrip(".!")
    if not sender.strip():
        return "other"  # no number to (un)subscribe
    if word in SMS_STOP_WORDS:
        address_unsubscribe(
            channel=Channel.SMS, address=sender, source="sms_stop", message=_last_sms_to(sender)
        )
        return "stop"
    if word in SMS_START_WORDS:
        address_resubscribe(
            channel=Channel.SMS, address=sender, source="sms_start", message=_last_sms_to(sender)
        )
        return "start"
    return "other"


def params_of(query: Mapping[str, Any]) -> dict[str, str]:
    """A request's POST parameters, one value each (Twilio sends each once)."""
    return {key: str(query.get(key, "")) for key in query}
