"""Writing a batch's outcomes: a few statements, whatever the batch's size.

``bulk_update`` would build one ``CASE WHEN`` per message and field (13 x 50 for a
batch), which costs more Python than sending the messages. Outcomes are mostly
alike (a chunk's messages were sent together, in a few locales, with the same
warnings), so messages with the same new values are written by one ``UPDATE``
each, and the one value that differs per message, the provider's message id,
by one ``UPDATE`` with a plain ``CASE id WHEN ...``; so are the targets of the
links tracked in each sent message (delivery.tracking), often personalised.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import CharField, Field, JSONField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from delivery.models import Message, MessageAttempt, MessageStatus
from delivery.services.happenings import Happening, HappeningType, happenings_record

logger = logging.getLogger(__name__)

# What an outcome changes on a message, besides its provider message id and the claim.
_OUTCOME_FIELDS = (
    "status",
    "attempts",  # the claim counted a try; an excluded message gives it back
    "reason",
    "reason_detail",
    "sent_at",
    "locale",
    "warnings",
    "next_attempt_at",
    "enqueued_at",  # retries only
)


# A recorded outcome's status, as reports and webhooks name it (queued: a retry).
_HAPPENED: dict[str, str] = {
    MessageStatus.SENT: HappeningType.SENT,
    MessageStatus.FAILED: HappeningType.FAILED,
    MessageStatus.EXCLUDED: HappeningType.EXCLUDED,
    MessageStatus.QUEUED: HappeningType.RETRIED,
}


def _per_message(values: Mapping[UUID, Any], field: Field[Any, Any]) -> RawSQL:
    """``CASE id WHEN <message id> THEN <value> ... END`` (portable SQL), typed as ``field``."""
    pk = Message._meta.pk
    assert pk is not None and pk.column is not None
    whens = " ".join("WHEN %s THEN %s" for _ in values)
    params: list[Any] = []
    for message_id, value in values.items():
        params += [pk.get_db_prep_value(message_id, connection), value]
    column = connection.ops.quote_name(pk.column)
    # Every value is a parameter; the column name comes from the model, quoted.
    return RawSQL(f"CASE {column} {whens} END", params, output_field=field)  # noqa: S611


def _provider_ids(ids: Mapping[UUID, str]) -> RawSQL:
    return _per_message(ids, CharField())


def _links(links: Mapping[UUID, list[str]]) -> RawSQL:
    """Each sent message's tracked link targets (JSON), one statement for the chunk."""
    field = Message._meta.get_field("links")
    assert isinstance(field, JSONField)
    prepared = {pk: field.get_db_prep_value(value, connection) for pk, value in links.items()}
    return _per_message(prepared, field)


def _when(message: Message, now: datetime, tried: Mapping[UUID, datetime]) -> datetime:
    """When it happened, as the rows say it: a rebuild of the report rollups from the
    rows (delivery.reports.rebuild) puts it in the same hour. Sent: ``sent_at``;
    a retry: its attempt's time; failed and excluded: ``updated_at`` (``now``)."""
    if message.status == MessageStatus.SENT and message.sent_at is not None:
        return message.sent_at
    if message.status == MessageStatus.QUEUED:
        return tried.get(message.pk, now)
    return now


def messages_record(
    *, token: UUID, messages: Sequence[Message], attempts: Sequence[MessageAttempt]
) -> int:
    """Write the outcomes set on ``messages`` and their ``attempts``, in one transaction.

    Only rows still claimed with ``token`` change: a message the sweeper took back
    (this worker stalled past the lease) belongs to its new sender. Returns how many
    messages were written.
    """
    if not messages:
        return 0
    now = timezone.now()
    groups: dict[str, tuple[dict[str, Any], list[UUID]]] = {}
    provider_ids: dict[UUID, str] = {}
    # Tracked links differ per message when personalised: not part of the groups above.
    links: dict[UUID, list[str]] = {}
    for message in messages:
        values = {name: getattr(message, name) for name in _OUTCOME_FIELDS}
        if message.status != MessageStatus.QUEUED:
            # Only a retry moves the enqueue time; leaving it keeps messages of
            # different calls in one group.
            del values["enqueued_at"]
        key = json.dumps(values, sort_keys=True, cls=DjangoJSONEncoder)
        groups.setdefault(key, (values, []))[1].append(message.pk)
        if message.provider_message_id:
            provider_ids[message.pk] = message.provider_message_id
        if message.links and message.status == MessageStatus.SENT:
            links[message.pk] = message.links
    held = Message.objects.filter(claim_token=token)
    written = 0
    with transaction.atomic():
        # Which messages this worker still holds, locked: only their outcomes are
        # counted, and the sweeper cannot take one back before they are written.
        kept = set(
            held.filter(pk__in=[m.pk for m in messages])
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if provider_ids:  # first: the next statements give the claim up
            held.filter(pk__in=list(provider_ids)).update(
                provider_message_id=_provider_ids(provider_ids)
            )
        if links:
            held.filter(pk__in=list(links)).update(links=_links(links))
        for values, ids in groups.values():
            written += held.filter(pk__in=ids).update(
                **values, claim_token=None, claimed_at=None, updated_at=now
            )
        MessageAttempt.objects.bulk_create(attempts)
        tried = {attempt.message_id: attempt.at for attempt in attempts}
        happenings_record(
            happenings=[
                Happening(
                    type=_HAPPENED[m.status], message=m, at=_when(m, now, tried), reason=m.reason
                )
                for m in messages
                if m.pk in kept and not m.execution.is_test
            ]
        )
    if written != len(messages):
        logger.warning(
            "%d of %d messages were taken back by the sweeper before their outcome was written",
            len(messages) - written,
            len(messages),
        )
    return written
