"""django-anymail's tracking signal, received: one service call (connected in apps.py)."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent

from delivery.services.provider_events import anymail_event_record


def anymail_tracking_received(
    *, event: AnymailTrackingEvent, esp_name: str, **_kwargs: Any
) -> None:
    anymail_event_record(event=event, esp_name=esp_name)
