"""An execution's status and counts, from its messages.

An execution is ``queued`` until a worker claims its first message, then
``in_progress``; once every message is final (and, for an audience, every
message is written) it ends ``succeeded`` (nothing failed), ``failed`` (every
message that could be sent failed) or ``partially_failed``, with its counts
stored. While it runs, counts are read from the messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from delivery.models import (
    EXECUTION_FINAL,
    MESSAGE_SENT,
    Execution,
    ExecutionStatus,
    Message,
    MessageStatus,
)
from delivery.services.executions_statement import (
    UNFINISHED,
    executions_finish_statement,
    finish_statement_applies,
)


def execution_counts(execution: Execution) -> dict[str, int]:
    """Messages by status (every status present, zeros included)."""
    if execution.status in EXECUTION_FINAL and execution.counts:
        return {status: int(execution.counts.get(status, 0)) for status in MessageStatus.values}
    rows = (
        Message.objects.filter(execution_id=execution.pk)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {row["status"]: row["n"] for row in rows}
    return {status: int(found.get(status, 0)) for status in MessageStatus.values}


def _final_status(counts: dict[str, Any]) -> str:
    failed = counts.get(MessageStatus.FAILED, 0)
    sent = sum(counts.get(status, 0) for status in MESSAGE_SENT)
    if failed and not sent:
        return ExecutionStatus.FAILED
    if failed:
        return ExecutionStatus.PARTIALLY_FAILED
    return ExecutionStatus.SUCCEEDED


def executions_unfinished_done() -> QuerySet[Execution]:
    """Executions not marked final although every message is: all written, none waiting."""
    waiting = Message.objects.filter(execution_id=OuterRef("pk"), status__in=UNFINISHED)
    return (
        Execution.objects.filter(fanout_done=True)
        .exclude(status__in=EXECUTION_FINAL)
        .exclude(Exists(waiting))
    )


def executions_refresh(*, execution_ids: Iterable[UUID], started: bool = False) -> int:
    """Move executions along: ``in_progress`` when work starts, final when it is done.

    Returns how many it moved. Whoever writes an execution's last outcome sees
    every other outcome written (each batch refreshes after its commit), so the
    last batch to finish is the one that marks the execution final.
    """
    ids = list(execution_ids)
    if not ids:
        return 0
    now = timezone.now()
    if started:
        return Execution.objects.filter(pk__in=ids, status=ExecutionStatus.QUEUED).update(
            status=ExecutionStatus.IN_PROGRESS, started_at=now
        )
    if finish_statement_applies():
        return executions_finish_statement(execution_ids=ids, now=now)
    done = list(executions_unfinished_done().filter(pk__in=ids).values_list("pk", flat=True))
    if not done:
        return 0
    # One grouped count for every execution that is done, not one query each.
    found: dict[Any, dict[str, int]] = {pk: {} for pk in done}
    for row in (
        Message.objects.filter(execution_id__in=done)
        .values("execution_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        found[row["execution_id"]][row["status"]] = row["n"]
    # Executions ending alike (most unitary calls: one message, sent) share one UPDATE.
    groups: dict[str, tuple[str, dict[str, int], list[Any]]] = {}
    for pk, by_status in found.items():
        counts = {status: int(by_status.get(status, 0)) for status in MessageStatus.values}
        key = repr(sorted(counts.items()))
        groups.setdefault(key, (_final_status(counts), counts, []))[2].append(pk)
    return sum(
        Execution.objects.filter(pk__in=pks)
        .exclude(status__in=EXECUTION_FINAL)
        .update(status=status, counts=counts, finished_at=now)
        for status, counts, pks in groups.values()
    )
