"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from campaigns.models import AuditEvent, Campaign
from core.actors import Actor


def audit_record(
    *, campaign: Campaign, action: str, actor: Actor, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event to the audit log."""
    return AuditEvent.objects.create(
        campaign=campaign,
        campaign_name=campaign.name,
        action=action,
        actor=actor.db_user,
        api_key=actor.api_key,
        detail=detail or {},
    )
