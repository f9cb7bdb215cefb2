"""Report rollups recomputed from the rows they count: a check, and a repair.

The rollups (``ReportCounter``) are incremented as things happen
(delivery.reports.counting); this module counts the same things again from the
message, attempt and event rows with a few ``GROUP BY`` queries. The two agree
exactly (tests/delivery/test_report_exactness.py), so this is how an operator
checks them (``manage.py report_rebuild --check``) and repairs them after a
restore (``manage.py report_rebuild``).

Which rows count as what (docs/reports.md, "Metrics"):

- targeted: every message, at ``accepted_at``, with a blank locale (the locale is
  chosen when it is sent);
- sent: messages handed to the provider (``sent_at`` set), at ``sent_at``, whatever
  their feedback said later;
- failed, excluded (key: reason): messages in that status never sent, at
  ``updated_at`` (written once, when they ended);
- retried: attempts with the outcome ``retry``, at their time;
- feedback, opens, clicks, unsubscribes: the event rows (a provider event sent twice
  is stored once), at their time; unique counts from the rows marked ``first``
  (delivered, bounced, complained and rejected count only those: once per message);
  ``clicked_messages`` counts each message once, at its earliest human click.

Every count takes the message's version and its current locale. Test sends are
never counted. Rows purged by retention are gone, so a rebuild after a purge
rebuilds only the hours from ``since`` on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, F, Min, QuerySet
from django.db.models.functions import TruncHour

from delivery.models import (
    EventType,
    Message,
    MessageAttempt,
    MessageEvent,
    MessageStatus,
    ReportCounter,
)
from delivery.reports.counting import CounterKey

# A bounced event's ``reason`` says which kind it was (the provider feedback writes
# hard or soft there; anymail's "bounced" is permanent, so anything else is hard); a
# deferred event is a soft bounce.
BOUNCE_KINDS = ("hard", "soft")
# Provider feedback counted the first time only (delivery.services.feedback): later
# reports of the same kind are stored, not counted.
_ONCE_PER_MESSAGE = (EventType.DELIVERED, EventType.COMPLAINED, EventType.REJECTED)


@dataclass(frozen=True, slots=True)
class CounterDifference:
    """One rollup whose stored count differs from the rows' count."""

    key: CounterKey
    stored: int
    counted: int


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _messages(campaign_id: Any) -> QuerySet[Message]:
    # Test sends ("Send test" in the admin) are never counted.
    return Message.objects.filter(campaign_id=campaign_id).exclude(execution__is_test=True)


def _since(queryset: QuerySet[Any], field: str, since: datetime | None) -> QuerySet[Any]:
    return queryset.filter(**{f"{field}__gte": since}) if since is not None else queryset


def report_counts_from_rows(
    *, campaign_id: Any, since: datetime | None = None
) -> Counter[CounterKey]:
    """The rollups of ``campaign_id`` as the rows count them (hours from ``since`` on)."""
    counts: Counter[CounterKey] = Counter()
    messages = _messages(campaign_id)
    hour = TruncHour

    def add(version: UUID, locale: str, at: datetime, metric: str, key: str, n: int) -> None:
        counts[(campaign_id, _hour(at), version, locale, "", metric, key)] += n

    for row in (
        _since(messages, "accepted_at", since)
        .annotate(h=hour("accepted_at", tzinfo=UTC))
        .values("version_id", "h")
        .annotate(n=Count("*"))
        .order_by()
    ):
        add(row["version_id"], "", row["h"], "targeted", "", row["n"])

    # Sent: handed to the provider, whatever its feedback said later (a provider's
    # rejection moves a sent message to failed, counted as ``rejected``, not ``failed``).
    for row in (
        _since(messages.filter(sent_at__isnull=False), "sent_at", since)
        .annotate(h=hour("sent_at", tzinfo=UTC))
        .values("version_id", "locale", "h")
        .annotate(n=Count("*"))
        .order_by()
    ):
        add(row["version_id"], row["locale"], row["h"], "sent", "", row["n"])

    ended = messages.filter(
        status__in=(MessageStatus.FAILED, MessageStatus.EXCLUDED), sent_at__isnull=True
    )
    for row in (
        _since(ended, "updated_at", since)
        .annotate(h=hour("updated_at", tzinfo=UTC))
        .values("version_id", "locale", "status", "reason", "h")
        .annotate(n=Count("*"))
        .order_by()
    ):
        add(row["version_id"], row["locale"], row["h"], row["status"], row["reason"], row["n"])

    retries = MessageAttempt.objects.filter(
        message__in=messages, outcome=MessageAttempt.Outcome.RETRY
    )
    for row in (
        _since(retries, "at", since)
        .annotate(h=hour("at", tzinfo=UTC))
        .values("h", version_id=F("message__version_id"), locale=F("message__locale"))
        .annotate(n=Count("*"))
        .order_by()
    ):
        add(row["version_id"], row["locale"], row["h"], "retried", "", row["n"])

    events = _since(MessageEvent.objects.filter(message__in=messages), "at", since)
    for row in (
        events.annotate(h=hour("at", tzinfo=UTC))
        .values(
            "type",
            "link",
            "machine",
            "first",
            "reason",
            "h",
            version_id=F("message__version_id"),
            locale=F("message__locale"),
        )
        .annotate(n=Count("*"))
        .order_by()
    ):
        for metric, key in _event_metrics(row):
            add(row["version_id"], row["locale"], row["h"], metric, key, row["n"])

    # Messages with at least one click, counted once, in the hour of their first click
    # (which is the first click on its link: the rows marked ``first`` are enough).
    firsts = (
        events.filter(type=EventType.CLICKED, first=True, machine=False)
        .values(
            "message_id",
            version_id=F("message__version_id"),
            locale=F("message__locale"),
        )
        .annotate(at=Min("at"))
        .order_by()
    )
    for row in firsts.iterator(chunk_size=10_000):
        add(row["version_id"], row["locale"], row["at"], "clicked_messages", "", 1)
    return counts


def _event_metrics(row: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """What one group of event rows counts as (delivery.reports.counting, per row)."""
    kind = row["type"]
    if kind == EventType.OPENED:
        metric = "opened_machine" if row["machine"] else "opened"
        yield metric, ""
        if row["first"]:
            yield f"{metric}_unique", ""
    elif kind == EventType.CLICKED:
        metric = "clicked_machine" if row["machine"] else "clicked"
        yield metric, str(row["link"])
        if row["first"]:
            yield f"{metric}_unique", str(row["link"])
    elif kind == EventType.DEFERRED:
        yield "bounced", "soft"
    elif kind == EventType.BOUNCED:
        if row["first"]:  # a message bounces (hard) once
            yield "bounced", row["reason"] if row["reason"] in BOUNCE_KINDS else "hard"
    elif kind in (EventType.UNSUBSCRIBED, EventType.RESUBSCRIBED):
        if row["first"]:  # counted once per message
            yield kind, ""
    elif kind in _ONCE_PER_MESSAGE:
        if row["first"]:  # a message is delivered (complains, is rejected) once
            yield kind, ""
    else:
        yield kind, ""


def _stored(campaign_id: Any, since: datetime | None) -> Counter[CounterKey]:
    rows = _since(ReportCounter.objects.filter(campaign_id=campaign_id), "hour", since)
    stored: Counter[CounterKey] = Counter()
    for row in rows.values_list(
        "campaign_id", "hour", "version_id", "locale", "variant", "metric", "key", "count"
    ).iterator(chunk_size=10_000):
        if row[-1]:
            stored[(row[0], _hour(row[1]), *row[2:-1])] += row[-1]
    return stored


def report_counts_check(
    *, campaign_id: Any, since: datetime | None = None
) -> list[CounterDifference]:
    """The rollups of ``campaign_id`` that differ from the rows' counts (none: exact)."""
    stored = _stored(campaign_id, since)
    counted = report_counts_from_rows(campaign_id=campaign_id, since=since)
    return [
        CounterDifference(key=key, stored=stored[key], counted=counted[key])
        for key in sorted(set(stored) | set(counted), key=lambda k: tuple(map(str, k)))
        if stored[key] != counted[key]
    ]


def report_counts_rebuild(*, campaign_id: Any, since: datetime | None = None) -> int:
    """Replace the rollups of ``campaign_id`` (hours from ``since`` on) with the rows'
    counts; returns how many rollup rows were written.

    ``since`` is truncated to its hour. Things recorded while it runs may be counted
    twice or not at all: run it on a campaign that is not sending (after a restore).
    """
    if since is not None:
        since = _hour(since)
    counted = report_counts_from_rows(campaign_id=campaign_id, since=since)
    with transaction.atomic():
        stale = _since(ReportCounter.objects.filter(campaign_id=campaign_id), "hour", since)
        stale.delete()
        ReportCounter.objects.bulk_create(
            (
                ReportCounter(
                    campaign_id=key[0],
                    hour=key[1],
                    version_id=key[2],
                    locale=key[3],
                    variant=key[4],
                    metric=key[5],
                    key=key[6],
                    count=n,
                )
                for key, n in counted.items()
                if n
            ),
            batch_size=2_000,
        )
    return sum(1 for n in counted.values() if n)
