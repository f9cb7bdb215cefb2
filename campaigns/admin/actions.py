"""The lifecycle buttons of the campaign admin: which apply, and the service each calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Status
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_duplicate
from core.actors import Actor


@dataclass(frozen=True)
class CampaignAction:
    """A button: its label, what it says when done, and the service behind it."""

    name: str
    label: str | Promise
    done: str | Promise
    run: Callable[[Campaign, Actor], Campaign]
    style: str = "default"  # default | primary | danger
    needs_review: bool = False  # refused while the review finds errors (lifecycle services)


def _service(function: Callable[..., Campaign]) -> Callable[[Campaign, Actor], Campaign]:
    return lambda campaign, actor: function(campaign=campaign, actor=actor)


ACTIONS: dict[str, CampaignAction] = {
    action.name: action
    for action in [
        CampaignAction(
            "activate",
            _("Activate"),
            _("The campaign is now %(status)s."),
            _service(lifecycle.campaign_activate),
            "primary",
            needs_review=True,
        ),
        CampaignAction(
            "submit_for_review",
            _("Submit for approval"),
            _("The campaign waits for approval by a colleague."),
            _service(lifecycle.campaign_submit_for_review),
            "primary",
            needs_review=True,
        ),
        CampaignAction(
            "approve",
            _("Approve and activate"),
            _("Approved: the campaign is now %(status)s."),
            _service(lifecycle.campaign_approve),
            "primary",
            needs_review=True,
        ),
        CampaignAction(
            "reject",
            _("Send back to draft"),
            _("The campaign is a draft again."),
            _service(lifecycle.campaign_reject),
        ),
        CampaignAction(
            "open_draft_version",
            _("Create draft version"),
            _("A draft version is open: edit, then publish it. The live version keeps sending."),
            _service(lifecycle.campaign_open_draft_version),
        ),
        CampaignAction(
            "publish",
            _("Publish draft version"),
            _("Published: the new version is live."),
            _service(lifecycle.campaign_publish),
            "primary",
            needs_review=True,
        ),
        CampaignAction(
            "discard_draft_version",
            _("Discard draft version"),
            _("The draft version was discarded; the campaign is back to its live version."),
            _service(lifecycle.campaign_discard_draft_version),
            "danger",
        ),
        CampaignAction(
            "stop",
            _("Stop"),
            _("The campaign is stopped. Duplicate it to send again."),
            _service(lifecycle.campaign_stop),
            "danger",
        ),
        CampaignAction(
            "archive",
            _("Archive"),
            _("The campaign is archived."),
            _service(lifecycle.campaign_archive),
        ),
        CampaignAction(
            "duplicate",
            _("Duplicate"),
            _("This is the copy, a new draft."),
            _service(campaign_duplicate),
        ),
    ]
}


def campaign_object_tools(campaign: Campaign) -> list[CampaignAction]:
    """The buttons the change page offers for the campaign's status.

    Activation, approval and publishing live on the review page, where the
    checks are shown next to them.
    """
    names: list[str] = []
    live = campaign.status in (Status.LIVE, Status.SCHEDULED)
    if live and not campaign.has_draft_version:
        names.append("open_draft_version")
    if live and campaign.has_draft_version:
        names.append("discard_draft_version")
    if live:
        names.append("stop")
    if campaign.status not in (Status.DRAFT, Status.ARCHIVED):
        names.append("archive")
    names.append("duplicate")
    return [ACTIONS[name] for name in names]


def campaign_review_actions(campaign: Campaign, *, approval: bool, approver: bool) -> list[str]:
    """The buttons the review page offers."""
    if campaign.status == Status.DRAFT:
        return ["submit_for_review" if approval else "activate"]
    if campaign.status == Status.IN_REVIEW:
        return ["approve", "reject"] if approver else ["reject"]
    if campaign.status in (Status.LIVE, Status.SCHEDULED) and campaign.has_draft_version:
        return ["publish", "discard_draft_version"]
    return []
