"""Recording opens and clicks, and storing the SMS short links of a batch.

An open or a click is one ``MessageEvent`` (``message_event_add`` says whether it
is the first of its kind: the message's unique open, the first click on that
link) and, in the same transaction, one ``Happening`` counted in the report
rollups. A click's ``first`` (the message's first human click on any link, the
``clicked_messages`` metric) is decided by a conditional ``UPDATE`` of
``Message.clicked_at``: of two clicks racing, one updates the row. Test sends
get their events but are never counted. Machine-made opens and clicks
(delivery.tracking.machines) are recorded and counted apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery.channels.base import Outgoing
from delivery.models import EventType, Message, MessageEvent, ShortLink
from delivery.services.events import message_event_add
from delivery.services.happenings import Happening, happenings_record
from delivery.tracking.machines import click_is_machine, ip_network_of, open_is_machine
from delivery.tracking.tokens import short_code_new

logger = logging.getLogger(__name__)

# What a message's tracking needs, read with one query by the open and click views:
# its report rollup's keys, its links, and what an outbound webhook event carries
# (delivery.webhooks.queue.webhook_payload), so no deferred field costs a query.
TRACKING_FIELDS = (
    "id",
    "execution_id",
    "campaign_id",
    "version_id",
    "locale",
    "channel",
    "sent_at",
    "links",
    "user_id",
    "namespace",
    "address",
    "attempts",
    "execution__is_test",
)
_USER_AGENT_LENGTH = 512  # MessageEvent.user_agent


@dataclass(frozen=True)
class Visitor:
    """Who opened or clicked: the raw client address (truncated when stored), the agent."""

    address: str
    user_agent: str


def message_for_tracking(message_id: UUID) -> Message | None:
    """The message behind a token, with its execution's test flag: one query."""
    return (
        Message.objects.select_related("execution")
        .only(*TRACKING_FIELDS)
        .filter(pk=message_id)
        .first()
    )


def message_for_unsubscribe(message_id: UUID) -> Message | None:
    """The message behind an unsubscribe token, with its execution: one query."""
    return Message.objects.select_related("execution").filter(pk=message_id).first()


def short_link_resolve(code: str) -> tuple[Message, int] | None:
    """The message and link index of an SMS short link code: one query."""
    found = (
        ShortLink.objects.select_related("message__execution")
        .only("link", *(f"message__{name}" for name in TRACKING_FIELDS))
        .filter(code=code)
        .first()
    )
    return None if found is None else (found.message, found.link)


def link_target_of(message: Message, link: int) -> str | None:
    """The target of ``message``'s link ``link`` (1-based) as it was sent, or None."""
    links = message.links if isinstance(message.links, list) else []
    if not 1 <= link <= len(links):
        return None
    target = links[link - 1]
    return target if isinstance(target, str) else None


def _event(message: Message, kind: str, at: datetime, visitor: Visitor, **fields: object) -> bool:
    event = MessageEvent(
        message=message,
        type=kind,
        at=at,
        user_agent=visitor.user_agent[:_USER_AGENT_LENGTH],
        ip=ip_network_of(visitor.address),
        **fields,
    )
    return message_event_add(event=event)


def message_open_record(*, message: Message, visitor: Visitor) -> None:
    """Record an open of ``message``: its pixel was loaded. An erased message's
    (no address any more) records nothing: no new trace of the person."""
    if not message.address:
        return
    now = timezone.now()
    machine = open_is_machine(address=visitor.address, user_agent=visitor.user_agent)
    with transaction.atomic():
        first = _event(message, EventType.OPENED, now, visitor, machine=machine)
        if not message.execution.is_test:
            happenings_record(
                happenings=[
                    Happening(
                        type=EventType.OPENED, message=message, at=now, machine=machine, first=first
                    )
                ]
            )


def message_click_first(*, message: Message, at: datetime, machine: bool, first_link: bool) -> bool:
    """Whether a click is the message's first human click on any link (``clicked_messages``).

    Decided by a conditional ``UPDATE`` of ``Message.clicked_at``: of two racing
    clicks, one updates the row. A repeated click on a link was not the first (that
    link's first click set ``clicked_at``), so it costs no ``UPDATE``. Clicks reported
    by an email provider's tracking (delivery.services.feedback) use it too.
    """
    return (
        not machine
        and first_link
        and Message.objects.filter(pk=message.pk, clicked_at__isnull=True).update(clicked_at=at)
        == 1
    )


def message_click_record(*, message: Message, link: int, url: str, visitor: Visitor) -> None:
    """Record a click on ``message``'s link ``link`` (1-based) leading to ``url``."""
    now = timezone.now()
    machine = click_is_machine(user_agent=visitor.user_agent, at=now, sent_at=message.sent_at)
    with transaction.atomic():
        first_link = _event(
            message, EventType.CLICKED, now, visitor, link=link, url=url, machine=machine
        )
        first = message_click_first(message=message, at=now, machine=machine, first_link=first_link)
        if not message.execution.is_test:
            happenings_record(
                happenings=[
                    Happening(
                        type=EventType.CLICKED,
                        message=message,
                        at=now,
                        link=link,
                        url=url,
                        machine=machine,
                        first=first,
                        first_link=first_link,
                    )
                ]
            )


def short_links_store(
    *, rows: list[ShortLink], ready: Iterable[list[tuple[Message, Outgoing]]]
) -> None:
    """Insert a batch's short links in one statement.

    A code already taken (odds of about 2**-53 per code) gets a new one, and the
    body of the message it is in (among ``ready``) is changed to match.
    """
    if not rows:
        return
    renamed: dict[str, str] = {}
    for _attempt in range(5):
        try:
            with transaction.atomic():
                ShortLink.objects.bulk_create(rows)
            break
        except IntegrityError:
            taken = set(
                ShortLink.objects.filter(code__in=[row.code for row in rows]).values_list(
                    "code", flat=True
                )
            )
            for row in rows:
                if row.code in taken:
                    new = short_code_new()
                    old = next((k for k, v in renamed.items() if v == row.code), row.code)
                    renamed[old] = new
                    row.code = new
    else:
        logger.error("Could not store %d SMS short links", len(rows))
    if not renamed:
        return
    for pairs in ready:
        for position, (message, outgoing) in enumerate(pairs):
            body = outgoing.parts.get("body", "")
            for old, new in renamed.items():
                body = body.replace(f"/s/{old}", f"/s/{new}")
            pairs[position] = (message, replace(outgoing, parts={**outgoing.parts, "body": body}))
