"""Audience executions: accepting the call, scheduling it, and fanning it out.

``execution_accept_audience`` writes an execution (or, with ``executeAt`` in the
future, an ``ExecutionSchedule``) in one transaction with the idempotency
record; the fan-out runs in a worker. ``execution_fanout`` streams the audience
with ``audience_iter_batches`` and writes one ``queued`` message per profile in
bulk, batch by batch, publishing send tasks as it goes; memory holds one batch.
It records the last profile written, so a fan-out whose worker died resumes
where it stopped (a unique constraint keeps it from writing a message twice).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.models import Audience, Identity, Profile, PushRegistration
from audiences.selectors import audience_iter_batches
from campaigns.models import Category
from campaigns.versions import VersionSnapshot, version_snapshot_by_id
from core.actors import Actor
from core.channels import Channel
from core.errors import ClarionError, FieldError, invalid_input
from core.formats import iso_datetime
from core.ids import uuid7, uuid7_derived
from core.inserts import Statement
from delivery.addresses import profile_address
from delivery.calls import AudienceCall
from delivery.enqueue import fanout_on_commit, send_now
from delivery.limits import AUDIENCE_SEND_BATCH_SIZE, FANOUT_STALL
from delivery.models import (
    Execution,
    ExecutionKind,
    ExecutionSchedule,
    ExecutionStatus,
    Message,
    MessageStatus,
    RecipientType,
)
from delivery.services.executions import executions_refresh
from delivery.services.happenings import Happening, HappeningType, happenings_record
from delivery.services.idempotency import (
    Response,
    accept_once,
    idempotency_owner,
    idempotency_replay,
)
from delivery.services.triggers import CampaignNotLive, call_data_check, triggerable_version

logger = logging.getLogger(__name__)

FANOUT_BATCH_SIZE = 1000  # profiles per batch: one bulk insert, a few MB at most


@dataclass
class ScheduleNotCancellable(ClarionError):
    code: str = "schedule_not_cancellable"
    status: int = 409


def _audience_id(call: AudienceCall, snapshot: VersionSnapshot) -> UUID:
    if call.audience_id is not None:
        if not Audience.objects.filter(pk=call.audience_id).exists():
            raise invalid_input(
                [FieldError("/audience/id", _("No audience has the id %s.") % call.audience_id)],
                code="unknown_audience",
            )
        return call.audience_id
    if snapshot.audience.audience_id is None:
        raise invalid_input(
            [FieldError("/audience/id", _("The campaign has no audience; name one in the call."))],
            code="no_audience",
        )
    return snapshot.audience.audience_id


def _execution_create(
    *,
    snapshot: VersionSnapshot,
    audience_id: UUID,
    actor: Actor,
    request_id: str,
    context: dict[str, Any],
    execution_id: UUID,
    schedule: ExecutionSchedule | None = None,
) -> Execution:
    execution = Execution.objects.create(
        id=execution_id,
        kind=ExecutionKind.AUDIENCE,
        campaign_id=snapshot.campaign_id,
        version_id=snapshot.version_id,
        api_key=actor.api_key,
        request_id=request_id,
        context=context,
        audience_id=audience_id,
        schedule=schedule,
        fanout_done=False,
    )
    # Like sends, never on the caller's time: the response does not wait on the broker.
    fanout_on_commit(execution.pk)
    return execution


def execution_accept_audience(
    *, actor: Actor, call: AudienceCall, fingerprint: str, idempotency_key: str
) -> Response:
    """Accept ``POST /api/v1/executions/audience``: 202 with an execution or a schedule id."""
    owner = idempotency_owner(actor)
    replay = idempotency_replay(
        owner=owner, key=idempotency_key, fingerprint=fingerprint, at="/requestId"
    )
    if replay is not None:
        return replay
    now = timezone.now()
    snapshot = triggerable_version(
        campaign_id=call.campaign_id, actor=actor, category=Category.MARKETING, now=now
    )
    audience_id = _audience_id(call, snapshot)
    call_data_check([("/context", call.context)])
    new_id = uuid7(now)
    body: dict[str, Any] = {"requestId": call.request_id, "campaignId": str(call.campaign_id)}
    scheduled = call.execute_at is not None and call.execute_at > now
    if scheduled:
        body |= {
            "scheduleId": str(new_id),
            "status": ExecutionSchedule.Status.SCHEDULED.value,
            "executeAt": iso_datetime(call.execute_at),
        }
    else:
        body |= {"executionId": str(new_id), "status": ExecutionStatus.QUEUED.value}
    body["createdAt"] = iso_datetime(now)

    def write() -> list[Statement]:
        if scheduled:
            assert call.execute_at is not None
            ExecutionSchedule.objects.create(
                id=new_id,
                campaign_id=snapshot.campaign_id,
                api_key=actor.api_key,
                request_id=call.request_id,
                audience_id=audience_id,
                context=dict(call.context),
                execute_at=call.execute_at,
            )
        else:
            _execution_create(
                snapshot=snapshot,
                audience_id=audience_id,
                actor=actor,
                request_id=call.request_id,
                context=dict(call.context),
                execution_id=new_id,
            )
        return []  # the rows above are written; the idempotency record follows them

    return accept_once(
        owner=owner,
        key=idempotency_key,
        endpoint=ExecutionKind.AUDIENCE,
        fingerprint=fingerprint,
        at="/requestId",
        response=Response(202, body),
        write=write,
    )


def execution_schedule_cancel(*, schedule: ExecutionSchedule) -> ExecutionSchedule:
    """Cancel a schedule that has not started; 409 once it has started or ended."""
    cancelled = ExecutionSchedule.objects.filter(
        pk=schedule.pk, status=ExecutionSchedule.Status.SCHEDULED
    ).update(status=ExecutionSchedule.Status.CANCELLED, updated_at=timezone.now())
    schedule.refresh_from_db()
    if not cancelled:
        raise ScheduleNotCancellable(
            message=_("The schedule is %s; only a scheduled execution can be cancelled.")
            % schedule.get_status_display()
        )
    return schedule


def execution_schedules_start(*, now: datetime | None = None) -> int:
    """Start every schedule whose time has come; returns how many started.

    The campaign must still be live: a schedule of a campaign stopped meanwhile
    fails with the reason. Each schedule is claimed by a conditional update, so two
    sweeps never start one twice.
    """
    now = now or timezone.now()
    started = 0
    due = ExecutionSchedule.objects.filter(
        status=ExecutionSchedule.Status.SCHEDULED, execute_at__lte=now
    ).select_related("api_key")
    for schedule in due[:100]:
        with transaction.atomic():
            claimed = ExecutionSchedule.objects.filter(
                pk=schedule.pk, status=ExecutionSchedule.Status.SCHEDULED
            ).update(status=ExecutionSchedule.Status.STARTED, updated_at=now)
            if not claimed:
                continue
            actor = Actor(api_key=schedule.api_key)
            try:
                if schedule.api_key is not None and not schedule.api_key.is_active:
                    # A revoked key's calls are refused; so are the ones it scheduled.
                    raise CampaignNotLive(
                        message=_("The API key that scheduled this execution was revoked.")
                    )
                snapshot = triggerable_version(
                    campaign_id=schedule.campaign_id,
                    actor=actor,
                    category=Category.MARKETING,
                    now=now,
                )
                if schedule.audience_id is None:
                    raise CampaignNotLive(message=_("The audience of this schedule was deleted."))
            except ClarionError as error:
                ExecutionSchedule.objects.filter(pk=schedule.pk).update(
                    status=ExecutionSchedule.Status.FAILED, error=error.message, updated_at=now
                )
                continue
            _execution_create(
                snapshot=snapshot,
                audience_id=schedule.audience_id,
                actor=actor,
                request_id=schedule.request_id,
                context=schedule.context,
                execution_id=uuid7(),
                schedule=schedule,
            )
            started += 1
    return started


def _user_ids(profiles: list[Profile], namespace: str) -> dict[Any, str]:
    identities = Identity.objects.filter(
        profile__in=[p.pk for p in profiles], namespace__code=namespace
    ).values_list("profile_id", "value")
    return dict(identities)


def _registrations(profiles: list[Profile]) -> dict[Any, list[PushRegistration]]:
    found: dict[Any, list[PushRegistration]] = defaultdict(list)
    for registration in PushRegistration.objects.filter(
        profile__in=[p.pk for p in profiles]
    ).order_by("-last_seen_at", "-created_at"):
        found[registration.profile_id].append(registration)
    return found


def _fanout_batch(
    execution: Execution,
    snapshot: VersionSnapshot,
    profiles: list[Profile],
    *,
    offset: int,
    resumed: bool,
    lease: datetime,
) -> datetime | None:
    """Write one batch's messages, publish their send tasks, then move the cursor.

    The cursor moves only after the publish was attempted: a fan-out killed in
    between redoes the batch when it resumes (each message's id is derived from the
    execution and the profile, so the primary key keeps its rows single, and a send
    task claims before it sends). A publish the broker refused
    is logged, and that batch's messages wait for the sweeper.

    ``lease`` is the heartbeat this worker last wrote. Each batch renews it with a
    conditional ``UPDATE`` in the transaction that writes and counts the batch: a
    worker that stalled past ``FANOUT_STALL`` and lost the execution to another
    writes and counts nothing more. Returns the renewed lease, or None when lost.
    """
    user_ids = _user_ids(profiles, snapshot.audience.identity_namespace)
    registrations = _registrations(profiles) if snapshot.channel == Channel.PUSH else {}
    app_id = str(snapshot.channel_settings.get("appId") or "")
    now = timezone.now()
    # A throttled campaign sends this batch ``offset / rate`` seconds from now at the
    # earliest: the sweeper counts its grace from then, instead of re-publishing a
    # whole backlog that is only waiting for the throttle.
    rate = snapshot.throttle_rate
    enqueued_at = now + timedelta(seconds=offset / rate) if rate else now
    messages = []
    for profile in profiles:
        address = profile_address(
            snapshot.channel, profile, registrations.get(profile.pk, []), app_id
        )
        messages.append(
            Message(
                id=uuid7_derived(execution.created_at, execution.pk, profile.pk),
                execution=execution,
                campaign_id=snapshot.campaign_id,
                version_id=snapshot.version_id,
                channel=snapshot.channel,
                recipient_type=RecipientType.AEP,
                namespace=snapshot.audience.identity_namespace,
                user_id=user_ids.get(profile.pk, ""),
                profile=profile,
                address=address.value if address else "",
                push_info=address.push_info if address else None,
                enqueued_at=enqueued_at,
            )
        )
    with transaction.atomic():
        renewed = timezone.now()
        if not Execution.objects.filter(pk=execution.pk, heartbeat_at=lease).update(
            heartbeat_at=renewed
        ):
            return None  # another worker took the fan-out over
        # A resumed fan-out redoes the batch it was writing: rows the first run wrote
        # are neither written nor counted again. Only a run's first batch can be one.
        fresh = messages
        if resumed:
            written = set(
                Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", flat=True)
            )
            fresh = [m for m in messages if m.pk not in written]
        Message.objects.bulk_create(fresh, ignore_conflicts=True)
        happenings_record(
            happenings=[
                Happening(type=HappeningType.TARGETED, message=m, at=m.accepted_at) for m in fresh
            ]
        )
    # Ids as stored: after a resumed fan-out some rows were written by the first run.
    ids = list(
        Message.objects.filter(
            execution=execution, profile__in=[p.pk for p in profiles], status=MessageStatus.QUEUED
        )
        .order_by("profile_id")
        .values_list("id", flat=True)
    )
    send_now(ids, batch_size=AUDIENCE_SEND_BATCH_SIZE)
    moved = timezone.now()
    if not Execution.objects.filter(pk=execution.pk, heartbeat_at=renewed).update(
        fanout_cursor=profiles[-1].pk, heartbeat_at=moved
    ):
        return None
    return moved


def execution_fanout(*, execution_id: UUID) -> bool:
    """Write and enqueue the messages of an audience execution; False when another
    worker holds it (its heartbeat is fresh) or it is done already."""
    now = timezone.now()
    claimed = (
        Execution.objects.filter(pk=execution_id, fanout_done=False)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - FANOUT_STALL))
        .update(heartbeat_at=now)
    )
    if not claimed:
        return False
    execution = Execution.objects.select_related("audience").get(pk=execution_id)
    Execution.objects.filter(pk=execution_id, status=ExecutionStatus.QUEUED).update(
        status=ExecutionStatus.IN_PROGRESS, started_at=now
    )
    try:
        snapshot = version_snapshot_by_id(execution.version_id)
    except ClarionError as error:
        Execution.objects.filter(pk=execution_id).update(
            fanout_done=True, status=ExecutionStatus.FAILED, error=error.message, finished_at=now
        )
        return True
    lease: datetime | None = now
    if execution.audience is not None:
        offset = 0
        # One batch in memory at a time: the iterator reads the next batch only once
        # this one is written and published.
        for profiles in audience_iter_batches(
            execution.audience, FANOUT_BATCH_SIZE, after=execution.fanout_cursor
        ):
            assert lease is not None
            lease = _fanout_batch(
                execution, snapshot, profiles, offset=offset, resumed=offset == 0, lease=lease
            )
            if lease is None:
                logger.warning(
                    "Fan-out of execution %s was taken over by another worker", execution_id
                )
                return False
            offset += len(profiles)
    targeted = Message.objects.filter(execution_id=execution_id).count()
    if not Execution.objects.filter(pk=execution_id, heartbeat_at=lease).update(
        fanout_done=True, targeted_count=targeted, heartbeat_at=timezone.now()
    ):
        return False
    executions_refresh(execution_ids=[execution_id])
    return True
