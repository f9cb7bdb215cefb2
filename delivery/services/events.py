"""Writing message events, each knowing whether it is the first of its kind."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from delivery.models import MessageEvent


def message_event_add(*, event: MessageEvent) -> bool:
    """Save ``event``; True when it is the message's first of its kind (type, link,
    machine-made or not), which then carries ``first``.

    The partial unique index ``message_event_first`` decides, so two requests
    racing for the same first open count it once. A provider event already stored
    (same provider event id) is not saved again: False, and ``event.pk`` stays None.
    """
    try:
        with transaction.atomic():
            event.first = True
            event.save(force_insert=True)
            return True
    except IntegrityError:
        event.first = False
        event.pk = None
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:  # the provider sent this event before
        event.pk = None
    return False
