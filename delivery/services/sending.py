"""Sending a batch of messages: claim, exclude, render, throttle, hand over, record.

``message_send_batch`` is what a send task runs. It claims its messages with one
conditional update (``queued`` to ``sending`` with a fresh claim token), so a task
delivered twice sends once (delivery.services.claiming); renders each from the version live at acceptance
(``delivery.services.rendering``) and applies tracking to what it rendered
(``delivery.tracking.content``: rewritten links, open pixel, unsubscribe
headers); hands them to the channel's transport, chunk
by chunk at the campaign's throttle; and records every outcome in bulk as soon
as it is known: ``sent``, ``failed`` with its reason, ``excluded`` with its
reason, or back to ``queued`` with the time of the next attempt. Recording each
chunk as it leaves, and each message of a transport that reports message by
message (email), keeps what a killed worker leaves behind (messages the provider
took but the database does not know) to one chunk, or one email.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from audiences.models import Suppression
from audiences.services.suppressions import push_registration_forget, suppression_add
from campaigns.versions import VersionSnapshot, version_snapshot_by_id
from core.buckets import bucket_reserve
from core.errors import ClarionError
from delivery.channels.base import Outgoing, SendResult, Transport, TransportError
from delivery.channels.registry import transport_for
from delivery.enqueue import delivery_task
from delivery.models import Message, MessageAttempt, MessageStatus, ShortLink
from delivery.services.claiming import messages_claim
from delivery.services.exclusions import Reason, messages_excluded
from delivery.services.executions import executions_refresh
from delivery.services.recording import messages_record
from delivery.services.rendering import message_render
from delivery.services.tracking import short_links_store
from delivery.tracking.content import content_track
from delivery.webhooks.endpoints import webhook_routes_kept

__all__ = ["BatchOutcome", "Reason", "message_render", "message_send_batch", "retry_delay"]

logger = logging.getLogger(__name__)

# A throttled chunk is at most this share of a second's messages: 500/s goes out
# 50 every 0.1 s, never 500 in one burst.
THROTTLE_CHUNKS_PER_SECOND = 10


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
    return float(base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not security)


class _Hold:
    """The batch's claim on the messages it has not recorded yet.

    A throttled batch can wait longer than the claim lease (a slow rate shared by
    many workers). Its claim is renewed every third of the lease, while it waits,
    so the sweeper never gives a message still in this worker's hands to another.
    Messages the sweeper took anyway (the worker stalled past the lease) are
    dropped: their new owner sends them.
    """

    def __init__(self, token: UUID, messages: Iterable[Message]) -> None:
        self.token = token
        self.held = {m.pk for m in messages}
        self.renewed = time.monotonic()
        self.every = settings.CLARION_CLAIM_LEASE_SECONDS / 3

    def _renew(self) -> None:
        self.renewed = time.monotonic()
        if not self.held:
            return
        renewed = Message.objects.filter(pk__in=self.held, claim_token=self.token).update(
            claimed_at=timezone.now()
        )
        if renewed != len(self.held):
            self.held = set(
                Message.objects.filter(pk__in=self.held, claim_token=self.token).values_list(
                    "pk", flat=True
                )
            )

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, renewing the claim whenever it is due."""
        end = time.monotonic() + seconds
        while True:
            if time.monotonic() - self.renewed >= self.every:
                self._renew()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, max(0.0, self.every - (time.monotonic() - self.renewed))))

    def keep(self, pairs: list[tuple[Message, Outgoing]]) -> list[tuple[Message, Outgoing]]:
        return [pair for pair in pairs if pair[0].pk in self.held]

    def release(self, messages: Iterable[Message]) -> None:
        self.held.difference_update(m.pk for m in messages)


def _throttle_wait(snapshot: VersionSnapshot, count: int) -> float:
    """Seconds until the campaign's throttle lets ``count`` more messages go (booked now)."""
    rate = snapshot.throttle_rate
    if not rate or count <= 0:
        return 0.0
    return bucket_reserve(f"throttle:{snapshot.campaign_id}", rate=float(rate), count=count)


def _apply_result(
    message: Message,
    result: SendResult,
    now: datetime,
    outcome: BatchOutcome,
    delays: dict[int, float],
) -> MessageAttempt:
    error = result.error
    message.claim_token = None
    message.claimed_at = None
    if error is None:
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.next_attempt_at = None
        # The column holds 255 characters; a provider's id (a Web Push Location URL)
        # may be longer, and must never make recording fail after the send.
        message.provider_message_id = result.provider_message_id[:255]
        message.reason, message.reason_detail = "", ""
        outcome.sent += 1
        return MessageAttempt(
            message=message,
            number=message.attempts,
            outcome=MessageAttempt.Outcome.SENT,
            provider_message_id=result.provider_message_id[:255],
        )
    message.reason, message.reason_detail = error.code, error.detail
    if not error.permanent and message.attempts < settings.CLARION_SEND_MAX_ATTEMPTS:
        # One delay per attempt number and batch: the batch's retries go in one task,
        # and the jitter still spreads the batches that failed together.
        if message.attempts not in delays:
            delays[message.attempts] = retry_delay(message.attempts)
        delay = delays[message.attempts]
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = message.enqueued_at = now + timedelta(seconds=delay)
        outcome.retry.setdefault(delay, []).append(str(message.pk))
        result_outcome = MessageAttempt.Outcome.RETRY
    else:
        message.status = MessageStatus.FAILED
        message.next_attempt_at = None
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
    """What a permanent failure teaches: a hard bounce or an opt-out at the provider is
    suppressed (each with its reason), a gone token forgotten."""
    if error.unsubscribed:
        suppression_add(
            channel=message.channel,
            address=message.address,
            reason=Suppression.Reason.UNSUBSCRIBED,
            note=error.detail[:500],
        )
    elif error.suppress:
        suppression_add(
            channel=message.channel,
            address=message.address,
            reason=Suppression.Reason.HARD_BOUNCE,
            note=error.detail[:500],
        )
    if error.gone:
        push_registration_forget(token=message.address)


def _finish(message: Message, status: str, reason: str, detail: str, outcome: BatchOutcome) -> None:
    message.status = status
    message.reason, message.reason_detail = reason, detail
    message.claim_token = message.claimed_at = message.next_attempt_at = None
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


def _failed_attempt(message: Message, code: str, detail: str) -> MessageAttempt:
    return MessageAttempt(
        message=message,
        number=message.attempts,
        outcome=MessageAttempt.Outcome.FAILED,
        code=code,
        detail=detail[:2000],
    )


def _prepare(
    messages: list[Message], outcome: BatchOutcome
) -> tuple[dict[UUID, list[tuple[Message, Outgoing]]], list[Message], list[MessageAttempt]]:
    """Exclude and render: what goes out by version, and what ended here with its attempts."""
    snapshots, broken = _snapshots(messages)
    excluded = messages_excluded([m for m in messages if m.version_id in snapshots], snapshots)
    ready: dict[UUID, list[tuple[Message, Outgoing]]] = defaultdict(list)
    ended: list[Message] = []
    attempts: list[MessageAttempt] = []
    short_links: list[ShortLink] = []
    for message in messages:
        if message.version_id in broken:
            detail = broken[message.version_id]
            _finish(message, MessageStatus.FAILED, Reason.VERSION_UNREADABLE, detail, outcome)
            ended.append(message)
            attempts.append(_failed_attempt(message, Reason.VERSION_UNREADABLE, detail))
            continue
        if message.pk in excluded:
            reason, detail = excluded[message.pk]
            _finish(message, MessageStatus.EXCLUDED, reason, detail, outcome)
            message.attempts -= 1  # the claim counted a try; an excluded message had none
            ended.append(message)
            continue
        snapshot = snapshots[message.version_id]
        try:
            rendered = message_render(message, snapshot)
            tracked = content_track(message_id=message.pk, snapshot=snapshot, parts=rendered.parts)
        except ClarionError as error:
            detail = error.message
        except Exception as error:  # a bug must not strand the batch in ``sending``
            logger.exception("Rendering message %s failed", message.pk)
            detail = repr(error)
        else:
            message.locale = rendered.locale
            message.warnings = [
                {"field": e.field, "variable": e.variable, "code": "empty_variable"}
                for e in rendered.empty_variables
            ]
            message.links = tracked.links
            short_links += [
                ShortLink(code=c, message=message, link=n) for c, n in tracked.short_links
            ]
            outgoing = Outgoing(
                message_id=message.pk,
                channel=message.channel,
                address=message.address,
                parts=tracked.parts,
                channel_settings=snapshot.channel_settings,
                push_info=message.push_info,
                headers=tracked.headers,
            )
            ready[message.version_id].append((message, outgoing))
            continue
        _finish(message, MessageStatus.FAILED, Reason.RENDER_FAILED, detail, outcome)
        ended.append(message)
        attempts.append(_failed_attempt(message, Reason.RENDER_FAILED, detail))
    short_links_store(rows=short_links, ready=ready.values())
    return ready, ended, attempts


def _send_chunk(
    transport: Transport, chunk: list[tuple[Message, Outgoing]]
) -> Iterator[list[tuple[Message, SendResult]]]:
    """The chunk's messages with their results, in groups as the transport reports them.

    A transport that returns a list reports the chunk at once; one that yields each
    result as its provider answers (email: the SMTP server answers message by message)
    reports them one by one, so each is recorded before the next message goes and a
    killed worker leaves at most that one message unrecorded. A transport that raises
    or miscounts fails what it did not report, transiently.
    """
    outgoing = [pair[1] for pair in chunk]
    done = 0
    try:
        results = transport.send_many(outgoing)
        if isinstance(results, Sequence):
            if len(results) != len(outgoing):
                raise ValueError(f"{len(results)} results for {len(outgoing)} messages")
            done = len(chunk)
            yield [(pair[0], result) for pair, result in zip(chunk, results, strict=True)]
            return
        for result in results:
            if done == len(chunk):
                raise ValueError(f"more results than the {len(outgoing)} messages")
            done += 1
            yield [(chunk[done - 1][0], result)]
        if done != len(chunk):
            raise ValueError(f"{done} results for {len(outgoing)} messages")
    except Exception as error:  # transports report failures in results; this is a bug
        logger.exception("The transport raised while sending %d messages", len(outgoing))
        failure = TransportError(Reason.TRANSPORT_EXCEPTION, repr(error)[:500], permanent=False)
        yield [(pair[0], SendResult(pair[1].message_id, error=failure)) for pair in chunk[done:]]


def message_send_batch(*, message_ids: Sequence[str]) -> BatchOutcome:
    """Send the ``queued`` messages among ``message_ids``; see the module docstring."""
    # Each email's outcome is its own transaction: the webhook routes are read once.
    with webhook_routes_kept():
        return _send_batch(message_ids)


def _send_batch(message_ids: Sequence[str]) -> BatchOutcome:
    outcome = BatchOutcome()
    now = timezone.now()
    token = uuid.uuid4()
    messages = messages_claim(message_ids=message_ids, token=token, now=now)
    if not messages:
        return outcome
    hold = _Hold(token, messages)
    ready, ended, attempts = _prepare(messages, outcome)
    messages_record(token=token, messages=ended, attempts=attempts)
    hold.release(ended)
    delays: dict[int, float] = {}
    for version_id, pairs in ready.items():
        snapshot = version_snapshot_by_id(version_id)
        transport = transport_for(snapshot.channel, snapshot.channel_settings)
        rate = snapshot.throttle_rate
        step = max(1, rate // THROTTLE_CHUNKS_PER_SECOND) if rate else len(pairs)
        for start in range(0, len(pairs), step):
            chunk = hold.keep(pairs[start : start + step])
            if not chunk:
                continue
            hold.wait(_throttle_wait(snapshot, len(chunk)))
            chunk = hold.keep(chunk)
            for reported in _send_chunk(transport, chunk):
                sent_at = timezone.now()
                done = [message for message, _result in reported]
                messages_record(
                    token=token,
                    messages=done,
                    attempts=[
                        _apply_result(message, result, sent_at, outcome, delays)
                        for message, result in reported
                    ],
                )
                hold.release(done)
    _schedule_retries(outcome)
    executions_refresh(execution_ids={m.execution_id for m in messages})
    return outcome


def _schedule_retries(outcome: BatchOutcome) -> None:
    for delay, ids in outcome.retry.items():
        try:
            delivery_task("message_send_task").apply_async((ids,), countdown=delay)
        except Exception:  # enqueued_at is the retry time: the sweeper sends it after the grace
            logger.warning("Could not schedule a retry; the sweeper will", exc_info=True)
