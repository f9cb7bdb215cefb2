"""Rewriting a frozen version in tests, for states the services cannot reach today."""

from __future__ import annotations

from datetime import datetime

from campaigns.models import Campaign, CampaignVersion
from core.formats import iso_datetime


def frozen_schedule(
    campaign: Campaign, *, start_at: datetime | None, end_at: datetime | None
) -> None:
    """As if the live version had been frozen with this window (activation refuses a past end)."""
    assert campaign.live_version_id is not None
    version = CampaignVersion.objects.get(pk=campaign.live_version_id)
    schedule = {"startAt": iso_datetime(start_at), "endAt": iso_datetime(end_at)}
    CampaignVersion.objects.filter(pk=version.pk).update(
        snapshot={**version.snapshot, "schedule": schedule}, start_at=start_at, end_at=end_at
    )
