"""Sending a batch of messages: claim, exclude, render, throttle, hand over, record.

``message_send_batch`` is what a send task runs. It claims its messages with one
conditional update (``queued`` to ``sending`` with a fresh claim token), so a task
delivered twice sends once; renders each from the version live at acceptance
(``version_render``); hands them to the channel's transport; and records every
outcome in bulk: ``sent``, ``failed`` with its reason, ``excluded`` with its
reason, or back to ``queued`` with the time of the next attempt.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audiences.models import Consent, Suppression
from audiences.services.profiles import deep_merge
from audiences.services.suppressions import push_registration_forget, suppression_add
from campaigns.models import Category
from campaigns.versions import VersionSnapshot, version_render, version_snapshot_by_id
from core.buckets import bucket_reserve
from core.errors import ClarionError
from delivery.channels.base import Outgoing, SendResult, TransportError
from delivery.channels.registry import transport_for
from delivery.models import Message, MessageAttempt, MessageStatus
from delivery.services.executions import executions_refresh

logger = logging.getLogger(__name__)


class Reason:
    """Stable reason codes recorded on messages (docs/api.md lists them)."""

    NO_CONSENT = "no_consent"
    SUPPRESSED = "suppressed"
    NO_ADDRESS = "no_address"
    RENDER_FAILED = "render_failed"
    VERSION_UNREADABLE = "version_unreadable"


@dataclass
class BatchOutcome:
    """What one batch did, by final status, and when to try the retried messages again."""

    sent: int = 0
    failed: int = 0
    excluded: int = 0
    retry: dict[float, list[str]] = field(default_factory=dict)  # delay -> message ids


def retry_delay(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: exponential with +-20% jitter.

    With the defaults (30 s base, factor 3, 6 attempts) the retries come after about
    30 s, 1.5 min, 4.5 min, 13.5 min and 40 min: about an hour in all.
    """
    base = settings.CLARION_SEND_RETRY_BASE_SECONDS * (3 ** (attempt - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def _claim(message_ids: Sequence[str], now: datetime) -> list[Message]:
    token = uuid.uuid4()
    claimed = (
        Message.objects.filter(pk__in=list(message_ids), status=MessageStatus.QUEUED)
        .filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1))
        )
        .update(
            status=MessageStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return []
    return list(
        Message.objects.filter(claim_token=token, status=MessageStatus.SENDING).select_related(
            "execution", "profile"
        )
    )


def _locale(snapshot: VersionSnapshot, message: Message, merged: Mapping[str, Any]) -> str | None:
    if snapshot.locale_attribute:
        value: Any = merged
        for step in snapshot.locale_attribute.split("."):
            value = value.get(step) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            return value
    if message.profile is not None and message.profile.locale:
        return message.profile.locale
    locale = merged.get("locale")
    return locale if isinstance(locale, str) and locale else None


def _marketing(message: Message, snapshots: Mapping[UUID, VersionSnapshot]) -> bool:
    """Whether marketing rules (consent, every suppression) apply to ``message``.

    A test send (``Execution.is_test``) goes to the address its user typed, so it
    follows the transactional rules: only hard bounces and complaints block it.
    """
    is_test = message.execution.is_test  # claimed with select_related("execution")
    return snapshots[message.version_id].category == Category.MARKETING and not is_test


def _exclusions(
    messages: list[Message], snapshots: Mapping[UUID, VersionSnapshot]
) -> dict[UUID, str]:
    """Messages that must not be sent, with the reason: two queries for the whole batch."""
    excluded: dict[UUID, str] = {}
    by_channel: dict[str, set[str]] = defaultdict(set)
    for message in messages:
        if not message.address:
            excluded[message.pk] = Reason.NO_ADDRESS
        else:
            by_channel[message.channel].add(message.address)
    suppressed: dict[tuple[str, str], str] = {}
    if by_channel:
        query = Q()
        for channel, addresses in by_channel.items():
            query |= Q(channel=channel, address__in=addresses)
        suppressed = {
            (s.channel, s.address): s.reason
            for s in Suppression.objects.filter(query).only("channel", "address", "reason")
        }
    marketing_profiles = {
        m.profile_id for m in messages if m.profile_id is not None and _marketing(m, snapshots)
    }
    opted_in: set[tuple[Any, str]] = set()
    if marketing_profiles:
        opted_in = set(
            Consent.objects.filter(
                profile_id__in=marketing_profiles, status=Consent.Status.OPTED_IN
            ).values_list("profile_id", "channel")
        )
    for message in messages:
        if message.pk in excluded:
            continue
        reason = suppressed.get((message.channel, message.address))
        marketing = _marketing(message, snapshots)
        if reason is not None and (marketing or reason in Suppression.BLOCKS_TRANSACTIONAL):
            excluded[message.pk] = Reason.SUPPRESSED
        elif marketing and (message.profile_id, message.channel) not in opted_in:
            excluded[message.pk] = Reason.NO_CONSENT
    return excluded


def message_render(message: Message, snapshot: VersionSnapshot | None = None) -> Any:
    """Render ``message`` as it was (or will be) sent: its version, its recorded data.

    The admin's "view rendered message" calls this too; raises InvalidInput when
    the content does not render.
    """
    snapshot = snapshot or version_snapshot_by_id(message.version_id)
    stored: Mapping[str, Any] = message.profile.attributes if message.profile is not None else {}
    merged_profile = deep_merge(stored or {}, message.recipient_profile or {})
    context = deep_merge(message.execution.context or {}, message.recipient_context or {})
    locale = _locale(snapshot, message, merged_profile)
    return version_render(
        version=message.version_id, locale=locale, profile=merged_profile, context=context
    )


def _throttle(snapshot: VersionSnapshot, count: int) -> None:
    """Hold the batch until the campaign's throttle lets ``count`` more messages go."""
    rate = snapshot.throttle_rate
    if not rate or count <= 0:
        return
    wait = bucket_reserve(f"throttle:{snapshot.campaign_id}", rate=float(rate), count=count)
    if wait > 0:
        time.sleep(wait)


def _apply_result(
    message: Message, result: SendResult, now: datetime, outcome: BatchOutcome
) -> MessageAttempt:
    error = result.error
    message.claim_token = None
    message.claimed_at = None
    if error is None:
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.provider_message_id = result.provider_message_id
        message.reason, message.reason_detail = "", ""
        outcome.sent += 1
        return MessageAttempt(
            message=message,
            number=message.attempts,
            outcome=MessageAttempt.Outcome.SENT,
            provider_message_id=result.provider_message_id,
        )
    message.reason, message.reason_detail = error.code, error.detail
    if not error.permanent and message.attempts < settings.CLARION_SEND_MAX_ATTEMPTS:
        delay = retry_delay(message.attempts)
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = message.enqueued_at = now + timedelta(seconds=delay)
        outcome.retry.setdefault(round(delay, 1), []).append(str(message.pk))
        result_outcome = MessageAttempt.Outcome.RETRY
    else:
        message.status = MessageStatus.FAILED
        outcome.failed += 1
        result_outcome = MessageAttempt.Outcome.FAILED
        _learn(message, error)
    return MessageAttempt(
        message=message,
        number=message.attempts,
        outcome=result_outcome,
        code=error.code,
        detail=error.detail[:2000],
    )


def _learn(message: Message, error: TransportError) -> None:
    """What a permanent failure teaches: a hard bounce is suppressed, a gone token forgotten."""
    if error.suppress:
        suppression_add(
            channel=message.channel,
            address=message.address,
            reason=Suppression.Reason.HARD_BOUNCE,
            note=error.detail[:500],
        )
    if error.gone:
        push_registration_forget(token=message.address)


_UPDATED_FIELDS = [
    "status",
    "reason",
    "reason_detail",
    "provider_message_id",
    "sent_at",
    "locale",
    "warnings",
    "claim_token",
    "claimed_at",
    "next_attempt_at",
    "enqueued_at",
    "updated_at",
]


def _fail(message: Message, status: str, reason: str, detail: str, outcome: BatchOutcome) -> None:
    message.status = status
    message.reason, message.reason_detail = reason, detail
    message.claim_token = message.claimed_at = None
    if status == MessageStatus.EXCLUDED:
        outcome.excluded += 1
    else:
        outcome.failed += 1


def _snapshots(messages: Iterable[Message]) -> tuple[dict[UUID, VersionSnapshot], dict[UUID, str]]:
    found: dict[UUID, VersionSnapshot] = {}
    broken: dict[UUID, str] = {}
    for version_id in {m.version_id for m in messages}:
        try:
            found[version_id] = version_snapshot_by_id(version_id)
        except ClarionError as error:
            broken[version_id] = error.message
    return found, broken


def _record(messages: list[Message], attempts: list[MessageAttempt]) -> None:
    """Write the messages' outcomes and their attempts, together."""
    if not messages and not attempts:
        return
    finished = timezone.now()
    for message in messages:
        message.updated_at = finished  # bulk_update does not apply auto_now
    with transaction.atomic():
        Message.objects.bulk_update(messages, _UPDATED_FIELDS)
        MessageAttempt.objects.bulk_create(attempts)


def message_send_batch(*, message_ids: Sequence[str]) -> BatchOutcome:
    """Send the ``queued`` messages among ``message_ids``; see the module docstring."""
    outcome = BatchOutcome()
    now = timezone.now()
    messages = _claim(message_ids, now)
    if not messages:
        return outcome
    executions_refresh(execution_ids={m.execution_id for m in messages}, started=True)
    snapshots, broken = _snapshots(messages)
    excluded = _exclusions([m for m in messages if m.version_id in snapshots], snapshots)
    attempts: list[MessageAttempt] = []
    ready: dict[UUID, list[tuple[Message, Outgoing]]] = defaultdict(list)
    for message in messages:
        if message.version_id in broken:
            _fail(
                message,
                MessageStatus.FAILED,
                Reason.VERSION_UNREADABLE,
                broken[message.version_id],
                outcome,
            )
            continue
        if message.pk in excluded:
            _fail(message, MessageStatus.EXCLUDED, excluded[message.pk], "", outcome)
            continue
        snapshot = snapshots[message.version_id]
        try:
            rendered = message_render(message, snapshot)
        except ClarionError as error:
            _fail(message, MessageStatus.FAILED, Reason.RENDER_FAILED, error.message, outcome)
            attempts.append(
                MessageAttempt(
                    message=message,
                    number=message.attempts,
                    outcome=MessageAttempt.Outcome.FAILED,
                    code=Reason.RENDER_FAILED,
                    detail=error.message[:2000],
                )
            )
            continue
        message.locale = rendered.locale
        message.warnings = [
            {"field": e.field, "variable": e.variable, "code": "empty_variable"}
            for e in rendered.empty_variables
        ]
        ready[message.version_id].append(
            (
                message,
                Outgoing(
                    message_id=message.pk,
                    channel=message.channel,
                    address=message.address,
                    parts=rendered.parts,
                    channel_settings=snapshot.channel_settings,
                    push_info=message.push_info,
                ),
            )
        )
    handed_over: set[UUID] = set()
    for version_id, pairs in ready.items():
        snapshot = snapshots[version_id]
        transport = transport_for(snapshot.channel, snapshot.channel_settings)
        step = max(1, min(len(pairs), (snapshot.throttle_rate or len(pairs)) // 10 or 1))
        for start in range(0, len(pairs), step):
            chunk = pairs[start : start + step]
            _throttle(snapshot, len(chunk))
            results = transport.send_many([outgoing for _message, outgoing in chunk])
            # Each outcome is committed as soon as the transport reports it (SMTP: once
            # per message), so a worker killed mid-batch leaves nothing the provider took
            # in "sending", for the sweeper to send a second time.
            for (message, _outgoing), result in zip(chunk, results, strict=True):
                _record([message], [_apply_result(message, result, timezone.now(), outcome)])
                handed_over.add(message.pk)
    _record([m for m in messages if m.pk not in handed_over], attempts)
    _schedule_retries(outcome)
    executions_refresh(execution_ids={m.execution_id for m in messages})
    return outcome


def _schedule_retries(outcome: BatchOutcome) -> None:
    from delivery.tasks import message_send_task  # the task module imports this one

    for delay, ids in outcome.retry.items():
        try:
            message_send_task.apply_async((ids,), countdown=delay)
        except Exception:
            logger.warning("Could not schedule a retry; the sweeper will", exc_info=True)
