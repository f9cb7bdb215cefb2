"""Checking a trigger call against its campaign: steps 4 to 6 of the validation order.

Both endpoints share them: the campaign exists (404), the caller holds its
access labels (403), its category suits the endpoint (422), and it is live and
inside its schedule (409). Everything here is read from caches: a call for a
known campaign costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _

from campaigns.models import Category, Status
from campaigns.triggering import campaign_label_ids, trigger_target_get, version_label_ids
from campaigns.versions import VersionSnapshot, version_snapshot_by_id
from core.actors import Actor
from core.errors import ClarionError, FieldError, invalid_input
from core.jsonvalues import nul_pointer
from core.selectors import access_labels_held

TRIGGERABLE = (Status.LIVE, Status.SCHEDULED)


@dataclass
class CampaignNotFound(ClarionError):
    code: str = "campaign_not_found"
    status: int = 404


@dataclass
class MissingAccessLabel(ClarionError):
    code: str = "missing_access_label"
    status: int = 403


@dataclass
class CategoryMismatch(ClarionError):
    code: str = "category_mismatch"
    status: int = 422


@dataclass
class CampaignNotLive(ClarionError):
    code: str = "campaign_not_live"
    status: int = 409


@dataclass
class OutsideSchedule(ClarionError):
    code: str = "outside_schedule"
    status: int = 409


_AT = "/campaignId"


def triggerable_version(
    *, campaign_id: UUID, actor: Actor, category: str, now: datetime
) -> VersionSnapshot:
    """The live version a call for ``campaign_id`` sends, after checks 4 to 6."""
    target = trigger_target_get(campaign_id)
    if target is None:
        message = _("No campaign has the id %s.") % campaign_id
        raise CampaignNotFound(message=message, errors=[FieldError(_AT, message)])
    held = access_labels_held(actor)
    if held is not None:
        labels = (
            version_label_ids(target.version_id)
            if target.version_id is not None
            else campaign_label_ids(campaign_id)
        )
        if not labels <= held:
            message = _("This API key does not hold every access label of the campaign.")
            raise MissingAccessLabel(message=message, errors=[FieldError(_AT, message)])
    snapshot = version_snapshot_by_id(target.version_id) if target.version_id else None
    found = snapshot.category if snapshot is not None else target.category
    if found != category:
        endpoint = "unitary" if found == Category.TRANSACTIONAL else "audience"
        message = _(
            "The campaign is %(category)s; trigger it with POST /api/v1/executions/%(endpoint)s."
        ) % {"category": found, "endpoint": endpoint}
        raise CategoryMismatch(message=message, errors=[FieldError(_AT, message)])
    if snapshot is None:
        message = _("The campaign has never been activated; activate it before triggering it.")
        raise CampaignNotLive(message=message, errors=[FieldError(_AT, message)])
    if target.status not in TRIGGERABLE:
        message = _("The campaign is %s, not live; only live campaigns can be triggered.") % (
            Status(target.status).label
        )
        raise CampaignNotLive(message=message, errors=[FieldError(_AT, message)])
    if not snapshot.schedule.is_open(now):
        window = snapshot.schedule
        if window.start_at is not None and now < window.start_at:
            message = _("The campaign starts at %s; calls before then are refused.") % (
                window.start_at.isoformat()
            )
        else:
            end = window.end_at.isoformat() if window.end_at else ""
            message = _("The campaign ended at %s; calls after then are refused.") % end
        raise OutsideSchedule(message=message, errors=[FieldError(_AT, message)])
    return snapshot


def call_data_check(items: list[tuple[str, Any]]) -> None:
    """Refuse (422) call data PostgreSQL cannot store: a NUL character in a key or a
    string of ``context`` or ``profile``. ``items`` are (pointer, value) pairs."""
    errors = []
    for at, value in items:
        where = nul_pointer(value)
        if where is not None:
            errors.append(
                FieldError(at + where, _("A NUL character (\\u0000) cannot be stored here."))
            )
    if errors:
        raise invalid_input(errors)
