"""The sweeper: what makes a 202 a promise when a process or the broker dies.

Every accepted message is a ``queued`` row before the 202 leaves. The sweeper
(beat, every ``CLARION_SWEEP_INTERVAL_SECONDS``) re-enqueues messages whose send
task should have run a grace period ago (a publish lost with the broker or the
web process), gives back messages held in ``sending`` past their lease (a worker
killed mid-batch), restarts audience fan-outs whose worker stopped reporting,
marks final the executions whose last batch died before doing so, and starts
scheduled executions whose time has come. Re-enqueueing is safe: a
send task claims before it sends, so a message is sent once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from delivery.enqueue import delivery_task, send_now
from delivery.limits import FANOUT_STALL, SWEEP_MAX_MESSAGES
from delivery.models import Execution, Message, MessageStatus
from delivery.services.audience import execution_schedules_start
from delivery.services.executions import executions_refresh, executions_unfinished_done

logger = logging.getLogger(__name__)

# Executions finished by one sweep at most (normally none: each batch finishes its own).
SWEEP_MAX_EXECUTIONS = 1000


def _grace() -> timedelta:
    return timedelta(seconds=settings.CLARION_SWEEP_GRACE_SECONDS)


def delivery_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One sweep; returns what it did, by kind."""
    now = now or timezone.now()
    reclaimed = Message.objects.filter(
        status=MessageStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.CLARION_CLAIM_LEASE_SECONDS),
    ).update(status=MessageStatus.QUEUED, claim_token=None, claimed_at=None, enqueued_at=None)
    late = list(
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - _grace()))
        # Oldest first, and the never-enqueued (given back by a dead worker) before all.
        .order_by(F("enqueued_at").asc(nulls_first=True))
        .values_list("id", flat=True)[:SWEEP_MAX_MESSAGES]
    )
    if late:
        Message.objects.filter(pk__in=late, status=MessageStatus.QUEUED).update(enqueued_at=now)
        send_now(late)
    stalled = list(
        Execution.objects.filter(fanout_done=False)
        .filter(
            Q(heartbeat_at__isnull=True, created_at__lt=now - _grace())
            | Q(heartbeat_at__lt=now - FANOUT_STALL)
        )
        .values_list("id", flat=True)
    )
    for execution_id in stalled:
        try:
            delivery_task("execution_fanout_task").delay(str(execution_id))
        except Exception:  # the broker is down: the next sweep tries again
            logger.warning("Could not restart fan-out %s", execution_id, exc_info=True)
    # A worker killed between writing the last outcome and marking its execution
    # leaves the execution running forever; finish it here.
    done = list(
        executions_unfinished_done()
        .filter(created_at__lt=now - _grace())
        .values_list("id", flat=True)[:SWEEP_MAX_EXECUTIONS]
    )
    finished = executions_refresh(execution_ids=done)
    started = execution_schedules_start(now=now)
    return {
        "reclaimed": reclaimed,
        "reenqueued": len(late),
        "fanouts_restarted": len(stalled),
        "executions_finished": finished,
        "schedules_started": started,
    }
