"""What happened to a message, told once to everything that keeps track of it.

Sending (sent, failed, excluded, retried), acceptance (targeted), tracking
(opened, clicked, unsubscribed) and provider feedback (delivered, bounced,
complained...) each build ``Happening`` values and call ``happenings_record``
inside the transaction that records them. It adds them to the report rollups
(delivery.reports.counting) and queues the outbound webhook events
(delivery.webhooks), so both are exact: they commit with the rows they count,
or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.inserts import Statement
from delivery.models import EventType, Message
from delivery.reports.counting import report_counts_add, report_counts_statements
from delivery.webhooks.queue import webhook_events_add, webhook_events_wanted


class HappeningType:
    """The stable names of what can happen to a message (webhook event types too)."""

    TARGETED = "targeted"
    SENT = "sent"
    FAILED = "failed"
    EXCLUDED = "excluded"
    RETRIED = "retried"
    OPENED = EventType.OPENED.value
    CLICKED = EventType.CLICKED.value
    UNSUBSCRIBED = EventType.UNSUBSCRIBED.value
    RESUBSCRIBED = EventType.RESUBSCRIBED.value
    DELIVERED = EventType.DELIVERED.value
    BOUNCED = EventType.BOUNCED.value
    DEFERRED = EventType.DEFERRED.value
    COMPLAINED = EventType.COMPLAINED.value
    REJECTED = EventType.REJECTED.value


@dataclass(frozen=True, slots=True)
class Happening:
    """One thing that happened to ``message`` at ``at``.

    ``reason``: why it failed, was excluded or bounced (``hard``/``soft`` for a
    bounce). Opens and clicks: ``machine`` when it looks machine-made, ``first``
    when it is the message's first of its type (its unique open, its first click
    on any link), and for a click ``link`` (1-based) with ``first_link`` when it is
    the first click on that link.
    """

    type: str
    message: Message
    at: datetime
    reason: str = ""
    link: int = 0
    url: str = ""
    machine: bool = False
    first: bool = False
    first_link: bool = False


def happenings_record(*, happenings: Sequence[Happening]) -> None:
    """Count ``happenings`` in the report rollups and queue their webhook events.

    Call it in the transaction that writes what they describe. Test sends (the
    campaign's "Send test") are not counted: the caller leaves them out.
    """
    if not happenings:
        return
    report_counts_add(happenings=happenings)
    webhook_events_add(happenings=happenings)


def happenings_counted_only(*, happenings: Sequence[Happening]) -> bool:
    """Whether recording ``happenings`` only adds to the rollups: no webhook endpoint
    wants any of them (read from the cached routes, no query). The caller may then
    count them its own way (delivery.services.recording_statement)."""
    return not webhook_events_wanted(happenings=happenings)


def happenings_statements(*, happenings: Sequence[Happening]) -> list[Statement]:
    """``happenings_record`` for a caller that writes its rows in one round trip: the
    rollup upserts come back as statements to run with its own (``statements_run``),
    in the same transaction; webhook deliveries, if an endpoint wants any, are queued
    now (none for acceptance's "targeted")."""
    if not happenings:
        return []
    webhook_events_add(happenings=happenings)
    return report_counts_statements(happenings=happenings)
