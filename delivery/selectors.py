"""Reading executions, schedules and messages, as a caller may see them.

A caller sees an execution when it holds every access label of the campaign
version the execution sends (the same rule as triggering it).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from campaigns.triggering import version_label_ids
from core.actors import Actor
from core.formats import iso_datetime
from core.selectors import access_labels_held
from delivery.models import Execution, ExecutionKind, ExecutionSchedule, Message
from delivery.services.executions import execution_counts


def _visible(actor: Actor, version_id: UUID | None) -> bool:
    held = access_labels_held(actor)
    return held is None or version_id is None or version_label_ids(version_id) <= held


def execution_get_visible(*, actor: Actor, execution_id: UUID) -> Execution | None:
    execution = Execution.objects.filter(pk=execution_id).first()
    if execution is None or not _visible(actor, execution.version_id):
        return None
    return execution


def schedule_get_visible(*, actor: Actor, schedule_id: UUID) -> ExecutionSchedule | None:
    schedule = ExecutionSchedule.objects.filter(pk=schedule_id).select_related("campaign").first()
    if schedule is None or not _visible(actor, schedule.campaign.live_version_id):
        return None
    return schedule


def execution_data(execution: Execution) -> dict[str, Any]:
    """An execution as ``GET /api/v1/executions/{id}`` answers it."""
    data: dict[str, Any] = {
        "executionId": str(execution.pk),
        "kind": execution.kind,
        "campaignId": str(execution.campaign_id),
        "versionId": str(execution.version_id),
        "requestId": execution.request_id,
        "status": execution.status,
        "targetedProfileCount": execution.targeted_count,
        "counts": execution_counts(execution),
        "scheduleId": str(execution.schedule_id) if execution.schedule_id else None,
        "error": execution.error,
        "createdAt": iso_datetime(execution.created_at),
        "startedAt": iso_datetime(execution.started_at),
        "finishedAt": iso_datetime(execution.finished_at),
    }
    if execution.kind == ExecutionKind.UNITARY:
        data["recipients"] = [
            {"userId": user_id, "messageId": str(pk), "status": status, "reason": reason}
            for pk, user_id, status, reason in Message.objects.filter(execution=execution)
            .order_by("position")
            .values_list("pk", "user_id", "status", "reason")
        ]
    return data


def schedule_data(schedule: ExecutionSchedule) -> dict[str, Any]:
    execution_id = Execution.objects.filter(schedule=schedule).values_list("pk", flat=True).first()
    return {
        "scheduleId": str(schedule.pk),
        "campaignId": str(schedule.campaign_id),
        "requestId": schedule.request_id,
        "audienceId": str(schedule.audience_id) if schedule.audience_id else None,
        "status": schedule.status,
        "executeAt": iso_datetime(schedule.execute_at),
        "executionId": str(execution_id) if execution_id else None,
        "error": schedule.error,
        "createdAt": iso_datetime(schedule.created_at),
    }
