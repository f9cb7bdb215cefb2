"""The retention purge: message rows older than the retention period go; counts stay.

Only messages in a final status (``MESSAGE_FINAL``) are ever deleted: never one still
queued, sending, or waiting for a retry (queued with a later ``next_attempt_at``).
``ReportCounter`` rows are never touched: reports keep their numbers.

PostgreSQL: a week's partition whose ids all fall before the cutoff, holding only
final messages all accepted before it, is dropped whole with its attempts and events
(no dead rows, no vacuum). A week holding some other message is kept, and its final
messages are deleted in batches, like the DEFAULT partition's (messages from before
ids were time-ordered). SQLite: batched deletes only. Then executions older than the
cutoff whose messages are all gone, and the registered tables (delivery.retention.registry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.ids import uuid7_floor
from delivery.limits import PURGE_BATCH_SIZE, PURGE_LOCK_TIMEOUT_MS
from delivery.models import (
    EXECUTION_FINAL,
    MESSAGE_FINAL,
    Execution,
    Message,
)
from delivery.retention.partitions import (
    MESSAGE_TABLE,
    Partition,
    partition_week_drop,
    partitioning_enabled,
    partitions_list,
)
from delivery.retention.registry import retained_by_message, retained_by_time

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    """What a purge did (or, dry, would do)."""

    partitions_dropped: list[str] = field(default_factory=list)
    partitions_kept: list[str] = field(default_factory=list)  # old, but not all final
    messages_in_dropped: int = 0
    messages_deleted: int = 0
    executions_deleted: int = 0
    registered_deleted: dict[str, int] = field(default_factory=dict)

    @property
    def messages_purged(self) -> int:
        return self.messages_in_dropped + self.messages_deleted


def messages_purge(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH_SIZE,
    using: str = DEFAULT_DB_ALIAS,
) -> PurgeReport:
    """Purge final messages accepted before ``older_than``, their attempts and events,
    the executions left without messages, and the registered tables' old rows."""
    report = PurgeReport()
    dropped_ranges: list[Q] = []
    if partitioning_enabled(connections[using]):
        for partition in _old_partitions(older_than, using):
            if _partition_purge(partition, older_than, report, dry_run=dry_run, using=using):
                dropped_ranges.append(Q(id__gte=partition.lower, id__lt=partition.upper))
    purgeable = _purgeable(older_than, using)
    if dry_run:
        for dropped in dropped_ranges:  # counted with their partitions already
            purgeable = purgeable.exclude(dropped)
        report.messages_deleted = purgeable.count()
        # Those left without messages once the purgeable ones are gone.
        report.executions_deleted = _executions_purgeable(older_than, using, dry_run=True).count()
        for entry in retained_by_time():
            stale = entry.model._default_manager.using(using)
            report.registered_deleted[entry.model._meta.label] = stale.filter(
                **{f"{entry.time_field}__lt": older_than}
            ).count()
        return report
    report.messages_deleted = _messages_delete(purgeable, report, batch_size, using)
    report.executions_deleted = _executions_delete(older_than, batch_size, using)
    for entry in retained_by_time():
        stale = entry.model._default_manager.using(using).filter(
            **{f"{entry.time_field}__lt": older_than}
        )
        _count(report, entry.model._meta.label, _delete_in_batches(stale, batch_size, using))
    logger.info("retention purge: %s", report)
    return report


def messages_purge_due(*, dry_run: bool = False) -> PurgeReport:
    """The purge the settings ask for: older than ``CLARION_MESSAGE_RETENTION_DAYS``."""
    days = settings.CLARION_MESSAGE_RETENTION_DAYS
    return messages_purge(older_than=timezone.now() - timedelta(days=days), dry_run=dry_run)


def _count(report: PurgeReport, label: str, n: int) -> None:
    report.registered_deleted[label] = report.registered_deleted.get(label, 0) + n


def _old_partitions(older_than: datetime, using: str) -> list[Partition]:
    """The week partitions whose ids are all before the cutoff's."""
    bound = uuid7_floor(older_than)
    with connections[using].cursor() as cursor:
        partitions = partitions_list(cursor, MESSAGE_TABLE.table)
    return [p for p in partitions if p.upper is not None and p.upper <= bound]


def _partition_purge(
    partition: Partition, older_than: datetime, report: PurgeReport, *, dry_run: bool, using: str
) -> bool:
    """Drop the week's partitions if every message in it can go; ``True`` if dropped."""
    connection = connections[using]
    name = connection.ops.quote_name(partition.name)
    final = [str(status) for status in MESSAGE_FINAL]
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if not dry_run:
                # Nothing writes to the week while it is checked and dropped; a lock not
                # granted soon leaves the week to the next run.
                cursor.execute(f"SET LOCAL lock_timeout = {int(PURGE_LOCK_TIMEOUT_MS)}")
                cursor.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT status = ANY(%s) "  # noqa: S608
                f"OR accepted_at >= %s) FROM {name}",
                [final, older_than],
            )
            total, blocking = cursor.fetchone()
            if blocking:
                report.partitions_kept.append(partition.name)
                return False
            if not dry_run:
                assert partition.lower is not None and partition.upper is not None
                for entry in retained_by_message():
                    stale = entry.model._default_manager.using(using).filter(
                        **{
                            f"{entry.message_field}__gte": partition.lower,
                            f"{entry.message_field}__lt": partition.upper,
                        }
                    )
                    _count(report, entry.model._meta.label, _delete(stale))
                partition_week_drop(connection, cursor, partition.lower, partition.upper)
    except DatabaseError as error:
        # Rolled back: a lock not granted in time (in use right now), or rows of an
        # unregistered table referencing the week's messages (the batched deletes below
        # follow Django's cascades instead).
        logger.warning("retention purge: %s not dropped: %s", partition.name, error)
        return False
    report.partitions_dropped.append(partition.name)
    report.messages_in_dropped += total
    return True


def _purgeable(older_than: datetime, using: str) -> QuerySet[Message]:
    # accepted_at, not the id: messages from before ids were time-ordered have random ids.
    return Message.objects.using(using).filter(status__in=MESSAGE_FINAL, accepted_at__lt=older_than)


def _messages_delete(
    purgeable: QuerySet[Message], report: PurgeReport, batch_size: int, using: str
) -> int:
    deleted = 0
    while True:
        with transaction.atomic(using=using):
            ids = list(purgeable.order_by("accepted_at").values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            for entry in retained_by_message():
                stale = entry.model._default_manager.using(using).filter(
                    **{f"{entry.message_field}__in": ids}
                )
                _count(report, entry.model._meta.label, _delete(stale))
            # Django's collector deletes the attempts and events first. The status is
            # checked again: a final message stays final, but a row is only deleted when
            # the statement that deletes it sees it final.
            deleted += _delete(purgeable.filter(id__in=ids))


def _executions_purgeable(
    older_than: datetime, using: str, *, dry_run: bool = False
) -> QuerySet[Execution]:
    has_messages = Message.objects.using(using).filter(execution=OuterRef("pk"))
    if dry_run:
        has_messages = has_messages.exclude(status__in=MESSAGE_FINAL, accepted_at__lt=older_than)
    return (
        Execution.objects.using(using)
        .filter(created_at__lt=older_than, status__in=EXECUTION_FINAL)
        .exclude(Exists(has_messages))
    )


def _executions_delete(older_than: datetime, batch_size: int, using: str) -> int:
    return _delete_in_batches(_executions_purgeable(older_than, using), batch_size, using)


def _delete_in_batches(queryset: QuerySet, batch_size: int, using: str) -> int:
    """Delete ``queryset``'s rows ``batch_size`` at a time, each batch in its transaction
    and through Django's collector (cascades to other tables follow)."""
    deleted = 0
    while True:
        with transaction.atomic(using=using):
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            deleted += _delete(queryset.filter(pk__in=pks))


def _delete(queryset: QuerySet) -> int:
    """Delete through Django's collector; how many rows of the queryset's own model went."""
    _n, by_model = queryset.delete()
    return by_model.get(queryset.model._meta.label, 0)
