"""Writing a batch's outcomes: a few statements, whatever the batch's size.

``bulk_update`` would build one ``CASE WHEN`` per message and field (13 x 50 for a
batch), which costs more Python than sending the messages. Outcomes are mostly
alike (a chunk's messages were sent together, in a few locales, with the same
warnings), so messages with the same new values are written by one ``UPDATE``
each, and the one value that differs per message, the provider's message id,
by a plain ``CASE id WHEN ...`` in that ``UPDATE``; so are the targets of the
links tracked in each sent message (delivery.tracking), often personalised.

An email's outcome is recorded alone, as the server answers it (at most one email
is resent after a killed worker), so the statements per outcome are what an email
costs. On PostgreSQL they are one statement in autocommit
(delivery.services.recording_statement); otherwise one ``UPDATE`` of the message, the
attempt, the report counters and the commit. The rows still claimed are known from
the ``UPDATE``'s count; only when it falls short (the sweeper took some back) is the
transaction rolled back and redone with a locking read of which rows are still held.
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
from django.db.models import CharField, Field, JSONField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from delivery.models import Message, MessageAttempt, MessageStatus
from delivery.services.happenings import Happening, HappeningType, happenings_record
from delivery.services.recording_statement import (
    outcome_statement_applies,
    outcome_statement_write,
)

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


def _per_message(values: Mapping[UUID, Any], field: Field[Any, Any], keep: str) -> RawSQL:
    """``CASE id WHEN <message id> THEN <value> ... ELSE <keep> END`` (portable SQL), typed
    as ``field``: the messages not in ``values`` keep their column ``keep``."""
    pk = Message._meta.pk
    assert pk is not None and pk.column is not None
    whens = " ".join("WHEN %s THEN %s" for _ in values)
    params: list[Any] = []
    for message_id, value in values.items():
        params += [pk.get_db_prep_value(message_id, connection), value]
    column, kept = connection.ops.quote_name(pk.column), connection.ops.quote_name(keep)
    # Every value is a parameter; the column names come from the model, quoted.
    return RawSQL(f"CASE {column} {whens} ELSE {kept} END", params, output_field=field)  # noqa: S611


def _provider_ids(ids: Mapping[UUID, str]) -> RawSQL:
    return _per_message(ids, CharField(), "provider_message_id")


def _links(links: Mapping[UUID, list[str]]) -> RawSQL:
    """Each sent message's tracked link targets (JSON), in its group's statement."""
    field = Message._meta.get_field("links")
    assert isinstance(field, JSONField)
    prepared = {pk: field.get_db_prep_value(value, connection) for pk, value in links.items()}
    return _per_message(prepared, field, "links")


def _per_group(
    ids: list[UUID], provider_ids: Mapping[UUID, str], links: Mapping[UUID, list[str]]
) -> dict[str, Any]:
    """The provider ids and link targets of a group's messages, as ``UPDATE`` values: a
    plain value for a group of one (an email), a ``CASE`` for a larger one."""
    values: dict[str, Any] = {}
    ids_provider = {pk: provider_ids[pk] for pk in ids if pk in provider_ids}
    ids_links = {pk: links[pk] for pk in ids if pk in links}
    if len(ids) == 1:
        if ids_provider:
            values["provider_message_id"] = ids_provider[ids[0]]
        if ids_links:
            values["links"] = ids_links[ids[0]]
        return values
    if ids_provider:
        values["provider_message_id"] = _provider_ids(ids_provider)
    if ids_links:
        values["links"] = _links(ids_links)
    return values


class _TakenBack(Exception):
    """The sweeper took some of the messages back: the quick write is rolled back."""


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
    if outcome_statement_applies(messages=messages):
        [(values, [pk])] = groups.values()
        written_one = outcome_statement_write(
            held=held,
            message=messages[0],
            values={**values, **_per_group([pk], provider_ids, links), **_released(now)},
            attempts=attempts,
            happenings_of=lambda: _happenings(messages, attempts, now),
        )
        if written_one:
            return 1
        if written_one is False:  # taken back: the careful way finds out what is held
            return _write_careful(held, messages, attempts, groups, provider_ids, links, now)
    try:
        written = _write_held(
            held, messages, attempts, groups, provider_ids, links, now, all_held=True
        )
    except _TakenBack:
        return _write_careful(held, messages, attempts, groups, provider_ids, links, now)
    return written


def _released(now: datetime) -> dict[str, Any]:
    """What every recorded outcome sets besides its own values: the claim let go."""
    return {"claim_token": None, "claimed_at": None, "updated_at": now}


def _write_careful(
    held: QuerySet[Message],
    messages: Sequence[Message],
    attempts: Sequence[MessageAttempt],
    groups: _Groups,
    provider_ids: Mapping[UUID, str],
    links: Mapping[UUID, list[str]],
    now: datetime,
) -> int:
    """Some messages were taken back by the sweeper: write those still held."""
    written = _write_held(
        held, messages, attempts, groups, provider_ids, links, now, all_held=False
    )
    if written != len(messages):
        logger.warning(
            "%d of %d messages were taken back by the sweeper before their outcome was written",
            len(messages) - written,
            len(messages),
        )
    return written


_Groups = Mapping[str, tuple[dict[str, Any], list[UUID]]]


def _happenings(
    messages: Sequence[Message], attempts: Sequence[MessageAttempt], now: datetime
) -> list[Happening]:
    tried = {attempt.message_id: attempt.at for attempt in attempts}
    return [
        Happening(type=_HAPPENED[m.status], message=m, at=_when(m, now, tried), reason=m.reason)
        for m in messages
        if not m.execution.is_test
    ]


def _write_held(
    held: QuerySet[Message],
    messages: Sequence[Message],
    attempts: Sequence[MessageAttempt],
    groups: _Groups,
    provider_ids: Mapping[UUID, str],
    links: Mapping[UUID, list[str]],
    now: datetime,
    *,
    all_held: bool,
) -> int:
    """Write, in one transaction, the outcomes of the messages this worker still holds.

    ``all_held``, the usual case: one ``UPDATE`` per group, which locks the rows it
    writes, and its count says whether every message was still held; raises
    ``_TakenBack`` (rolled back) when some were not. Otherwise (the sweeper took some
    back) the rows still held are locked and read first, and only they are written
    and counted.
    """
    with transaction.atomic():
        kept: set[UUID] | None = None
        if not all_held:
            # Locked: the sweeper cannot take one back before its outcome is written.
            kept = set(
                held.filter(pk__in=[m.pk for m in messages])
                .select_for_update()
                .values_list("pk", flat=True)
            )
        written = 0
        for values, ids in groups.values():
            if kept is not None:
                ids = [pk for pk in ids if pk in kept]
            if ids:
                written += held.filter(pk__in=ids).update(
                    **values, **_per_group(ids, provider_ids, links), **_released(now)
                )
        if kept is None and written != len(messages):
            raise _TakenBack
        MessageAttempt.objects.bulk_create(attempts)
        counted = messages if kept is None else [m for m in messages if m.pk in kept]
        happenings_record(happenings=_happenings(counted, attempts, now))
    return written
