"""Helpers for the report tests: a campaign sent through the real services, and events
recorded the way tracking and provider feedback record them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import EventType, Message, MessageEvent, MessageStatus
from delivery.services.events import message_event_add
from delivery.services.happenings import Happening, happenings_record
from delivery.services.sending import message_send_batch
from delivery.services.tracking import message_click_first

TWO_LOCALES = {
    "en": {
        "subject": "Thanks",
        "html": '<p><a href="https://shop.example/o">order</a> <a href="https://shop.example/h">help</a></p>',
        "text": "https://shop.example/o",
    },
    "fr": {
        "subject": "Merci",
        "html": '<p><a href="https://shop.example/fr/o">commande</a></p>',
        "text": "https://shop.example/fr/o",
    },
}


def record_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry tasks are not published: the test sends what is due itself."""
    monkeypatch.setattr(
        "delivery.tasks.message_send_task.apply_async", lambda *_args, **_kwargs: None
    )


def send_until_final(messages: list[Message]) -> int:
    """Send ``messages``, then their retries as they come due; returns the rounds."""
    rounds = 0
    ids = [str(m.pk) for m in messages]
    while True:
        rounds += 1
        message_send_batch(message_ids=ids)
        waiting = Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED)
        if not waiting.exists():
            return rounds
        waiting.update(next_attempt_at=timezone.now())  # time passes until they are due
        assert rounds < 10


# Provider feedback counted the first time only (delivery.services.feedback).
ONCE_PER_MESSAGE = (
    EventType.DELIVERED,
    EventType.BOUNCED,
    EventType.COMPLAINED,
    EventType.REJECTED,
)


def event(
    message: Message,
    kind: str,
    *,
    link: int = 0,
    url: str = "",
    machine: bool = False,
    provider: str = "",
    provider_event_id: str = "",
    reason: str = "",
) -> bool:
    """Record one event as tracking and feedback do; False when it was a repeat
    (a provider event already stored)."""
    with transaction.atomic():
        row = MessageEvent(
            message=message,
            type=kind,
            at=timezone.now(),
            link=link,
            url=url,
            machine=machine,
            provider=provider,
            provider_event_id=provider_event_id,
            reason=reason,
        )
        first = message_event_add(event=row)
        if row.pk is None:
            return False
        fields: dict[str, Any] = {"first": first}
        if kind == EventType.CLICKED:
            # The message's first human click on any link, decided as tracking does.
            fields = {
                "first_link": first,
                "first": message_click_first(
                    message=message, at=row.at, machine=machine, first_link=first
                ),
            }
        if kind in ONCE_PER_MESSAGE and not first:
            return True  # stored, not counted: a message is delivered (bounces...) once
        happenings_record(
            happenings=[
                Happening(
                    type=kind,
                    message=message,
                    at=row.at,
                    reason=reason,
                    link=link,
                    url=url,
                    machine=machine,
                    **fields,
                )
            ]
        )
        return True


def two_locale_campaign(live_campaign: Any, **fields: Any) -> Campaign:
    campaign: Campaign = live_campaign(create_new_profiles=True, content=TWO_LOCALES, **fields)
    return campaign
