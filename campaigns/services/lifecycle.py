"""Campaign status transitions, one service function each.

draft -> (in_review ->) scheduled | live -> stopped | completed -> archived.
Every function locks the campaign row, checks the status it starts from and
refuses anything else with ``InvalidTransition``; each transition is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.audit import audit_record
from campaigns.models import Campaign, CampaignVersion, Status
from campaigns.review import campaign_review
from campaigns.services.authoring import campaign_restore_data
from campaigns.snapshot import campaign_version_snapshot
from campaigns.triggering import trigger_target_forget
from campaigns.versions import SnapshotSchemaError, version_snapshot
from core.actors import Actor
from core.errors import FieldError, InvalidTransition, NotPermitted, ReviewBlocked

logger = logging.getLogger(__name__)

APPROVE_PERMISSION = "campaigns.approve_campaign"


def approval_required() -> bool:
    return bool(settings.CLARION_REQUIRE_APPROVAL)


def _lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _require_status(campaign: Campaign, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if campaign.status not in allowed:
        names = ", ".join(str(Status(s).label) for s in allowed)
        raise InvalidTransition(
            message=_("Cannot %(action)s a campaign that is %(status)s (only: %(allowed)s).")
            % {"action": action, "status": campaign.get_status_display(), "allowed": names},
        )


def _require_review_ok(campaign: Campaign) -> None:
    review = campaign_review(campaign=campaign)
    if not review.ok:
        raise ReviewBlocked(
            message=ngettext(
                "The review found %d error; fix it first.",
                "The review found %d errors; fix them first.",
                len(review.errors),
            )
            % len(review.errors),
            errors=[FieldError(f.field, f.message) for f in review.errors],
        )


def _require_approver(campaign: Campaign, actor: Actor) -> None:
    if not actor.has_perm(APPROVE_PERMISSION):
        raise NotPermitted(message=_("Approving needs the “approve campaigns” permission."))
    user = actor.db_user
    if user is not None and campaign.last_edited_by_id == user.pk:
        raise NotPermitted(
            code="four_eyes",
            message=_("You edited this campaign last; another approver must approve it."),
        )


def _freeze_version(campaign: Campaign, actor: Actor) -> CampaignVersion:
    last = campaign.versions.aggregate(n=Max("number"))["n"] or 0
    version = CampaignVersion.objects.create(
        campaign=campaign,
        number=last + 1,
        snapshot=campaign_version_snapshot(campaign),
        # The same facts as the snapshot, as columns the dispatcher and visibility filter on.
        start_at=campaign.start_at,
        end_at=campaign.end_at,
        created_by=actor.db_user,
    )
    version.access_labels.set(campaign.access_labels.all())
    campaign.live_version = version
    return version


def _close_draft_version(campaign: Campaign) -> bool:
    """Drop an open draft version's edits, restoring the row from the live version.

    Returns True when a draft version was open.

    A campaign that stops sending (stopped, completed, archived) keeps no draft
    version: its row then says what it sent, and a duplicate copies exactly that.
    """
    if not campaign.has_draft_version:
        return False
    if campaign.live_version is not None:
        # Refuses (SnapshotSchemaError) a snapshot this code cannot read before it is
        # written back onto the row.
        version_snapshot(campaign.live_version)
        campaign_restore_data(campaign=campaign, data=campaign.live_version.snapshot)
    campaign.has_draft_version = False
    return True


def _go_active(campaign: Campaign, actor: Actor, action: str) -> Campaign:
    """Freeze version 1 and become live, or scheduled when the start is ahead."""
    _require_review_ok(campaign)
    version = _freeze_version(campaign, actor)
    now = timezone.now()
    campaign.status = (
        Status.SCHEDULED if campaign.start_at and campaign.start_at > now else Status.LIVE
    )
    campaign.activated_at = now
    campaign.has_draft_version = False
    campaign.save()
    trigger_target_forget(campaign.pk)
    audit_record(
        campaign=campaign,
        action=action,
        actor=actor,
        detail={"status": campaign.status, "version": version.number},
    )
    return campaign


@transaction.atomic
def campaign_activate(*, campaign: Campaign, actor: Actor) -> Campaign:
    """draft -> live | scheduled, when no approval is required."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.DRAFT], _("activate"))
    if approval_required():
        raise InvalidTransition(
            code="approval_required",
            message=_("This installation requires approval: submit the campaign for review."),
        )
    return _go_active(campaign, actor, "activate")


@transaction.atomic
def campaign_submit_for_review(*, campaign: Campaign, actor: Actor) -> Campaign:
    """draft -> in_review, when approval is required and the checks pass."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.DRAFT], _("submit for review"))
    if not approval_required():
        raise InvalidTransition(
            code="approval_not_required",
            message=_("Approval is not required here; activate the campaign directly."),
        )
    _require_review_ok(campaign)
    campaign.status = Status.IN_REVIEW
    campaign.save(update_fields=["status", "updated_at"])
    audit_record(campaign=campaign, action="submit_for_review", actor=actor)
    return campaign


@transaction.atomic
def campaign_approve(*, campaign: Campaign, actor: Actor) -> Campaign:
    """in_review -> live | scheduled, by an approver who is not the last editor."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.IN_REVIEW], _("approve"))
    _require_approver(campaign, actor)
    audit_record(campaign=campaign, action="approve", actor=actor)
    return _go_active(campaign, actor, "activate")


@transaction.atomic
def campaign_reject(*, campaign: Campaign, actor: Actor, reason: str = "") -> Campaign:
    """in_review -> draft: sent back for changes (by an approver, or withdrawn by anyone)."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.IN_REVIEW], _("send back"))
    campaign.status = Status.DRAFT
    campaign.save(update_fields=["status", "updated_at"])
    audit_record(campaign=campaign, action="reject", actor=actor, detail={"reason": reason})
    return campaign


@transaction.atomic
def campaign_stop(*, campaign: Campaign, actor: Actor) -> Campaign:
    """live | scheduled -> stopped. A stopped campaign cannot be reactivated: duplicate it."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.LIVE, Status.SCHEDULED], _("stop"))
    discarded = _close_draft_version(campaign)
    campaign.status = Status.STOPPED
    campaign.save(update_fields=["status", "has_draft_version", "updated_at"])
    trigger_target_forget(campaign.pk)
    audit_record(
        campaign=campaign,
        action="stop",
        actor=actor,
        detail={"discardedDraftVersion": True} if discarded else None,
    )
    return campaign


@transaction.atomic
def campaign_archive(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Any status but draft -> archived (drafts are deleted instead)."""
    campaign = _lock(campaign)
    _require_status(
        campaign,
        [Status.IN_REVIEW, Status.SCHEDULED, Status.LIVE, Status.STOPPED, Status.COMPLETED],
        _("archive"),
    )
    discarded = _close_draft_version(campaign)
    campaign.status = Status.ARCHIVED
    campaign.save(update_fields=["status", "has_draft_version", "updated_at"])
    trigger_target_forget(campaign.pk)
    audit_record(
        campaign=campaign,
        action="archive",
        actor=actor,
        detail={"discardedDraftVersion": True} if discarded else None,
    )
    return campaign


@transaction.atomic
def campaign_open_draft_version(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Start editing a live or scheduled campaign; the live version keeps sending."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.LIVE, Status.SCHEDULED], _("create a draft version of"))
    if campaign.has_draft_version:
        raise InvalidTransition(
            code="draft_version_exists", message=_("A draft version is already open.")
        )
    campaign.has_draft_version = True
    campaign.save(update_fields=["has_draft_version", "updated_at"])
    audit_record(campaign=campaign, action="open_draft_version", actor=actor)
    return campaign


@transaction.atomic
def campaign_publish(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Freeze the draft version and make it the live version."""
    campaign = _lock(campaign)
    _require_status(campaign, [Status.LIVE, Status.SCHEDULED], _("publish"))
    if not campaign.has_draft_version:
        raise InvalidTransition(
            code="no_draft_version", message=_("There is no draft version to publish.")
        )
    if approval_required():
        _require_approver(campaign, actor)
    _require_review_ok(campaign)
    version = _freeze_version(campaign, actor)
    campaign.has_draft_version = False
    campaign.save()
    trigger_target_forget(campaign.pk)
    audit_record(
        campaign=campaign, action="publish", actor=actor, detail={"version": version.number}
    )
    return campaign


@transaction.atomic
def campaign_discard_draft_version(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Throw the draft's edits away: the campaign returns to its live version."""
    campaign = _lock(campaign)
    # Only live and scheduled campaigns have draft versions; refusing the others also
    # keeps a stale flag on a stopped or completed campaign from rewriting its row.
    _require_status(campaign, [Status.LIVE, Status.SCHEDULED], _("discard the draft version of"))
    if not campaign.has_draft_version or campaign.live_version is None:
        raise InvalidTransition(
            code="no_draft_version", message=_("There is no draft version to discard.")
        )
    _close_draft_version(campaign)
    campaign.save(update_fields=["has_draft_version", "updated_at"])
    audit_record(campaign=campaign, action="discard_draft_version", actor=actor)
    return campaign


def campaign_dispatch_due(*, now: datetime | None = None) -> dict[str, int]:
    """Scheduled campaigns whose start has come go live; live ones past their end complete.

    Start and end are the live version's, never the campaign row's: the row may
    hold unpublished draft edits. Run every minute by beat; safe to run twice or
    in parallel (rows are locked and skipped when another dispatcher holds them).
    """
    now = now or timezone.now()
    counts = {"live": 0, "completed": 0}
    system = Actor.system()
    # Lock only the campaign rows ("of"): PostgreSQL refuses FOR UPDATE on the nullable
    # side of the outer join to the version.
    locked = Campaign.objects.select_for_update(skip_locked=True, of=("self",))
    with transaction.atomic():
        due = locked.filter(status=Status.SCHEDULED, live_version__isnull=False).filter(
            Q(live_version__start_at__isnull=True) | Q(live_version__start_at__lte=now)
        )
        for campaign in due:
            campaign.status = Status.LIVE
            campaign.save(update_fields=["status", "updated_at"])
            trigger_target_forget(campaign.pk)
            audit_record(campaign=campaign, action="go_live", actor=system)
            counts["live"] += 1
    with transaction.atomic():
        ended = locked.filter(status=Status.LIVE, live_version__end_at__lte=now)
        for campaign in ended:
            try:
                with transaction.atomic():  # one campaign that cannot close holds up no other
                    _close_draft_version(campaign)
                    campaign.status = Status.COMPLETED
                    campaign.save(update_fields=["status", "has_draft_version", "updated_at"])
                    trigger_target_forget(campaign.pk)
                    audit_record(campaign=campaign, action="complete", actor=system)
            except SnapshotSchemaError:
                logger.exception("Campaign %s could not complete: unreadable version", campaign.pk)
                continue
            counts["completed"] += 1
    return counts
