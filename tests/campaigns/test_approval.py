"""Four-eyes approval when the installation requires it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from campaigns.models import AuditEvent, Campaign, Status
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_update
from core.actors import Actor
from core.errors import InvalidTransition, NotPermitted
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _approval_on(settings: SettingsWrapper) -> None:
    settings.CLARION_REQUIRE_APPROVAL = True


def _edited_by(user: User) -> Campaign:
    campaign = CampaignFactory.create()
    return campaign_update(campaign=campaign, data={"description": "ready"}, actor=Actor(user=user))


def test_activation_requires_submission_when_approval_is_on(marketer: User) -> None:
    campaign = _edited_by(marketer)

    with pytest.raises(InvalidTransition) as caught:
        lifecycle.campaign_activate(campaign=campaign, actor=Actor(user=marketer))

    assert caught.value.code == "approval_required"
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


def test_submitted_campaign_waits_in_review_then_an_approver_activates_it(
    marketer: User, approver: User
) -> None:
    campaign = _edited_by(marketer)

    campaign = lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))
    assert campaign.status == Status.IN_REVIEW
    assert campaign.live_version is None

    campaign = lifecycle.campaign_approve(campaign=campaign, actor=Actor(user=approver))

    assert campaign.status == Status.LIVE
    assert campaign.live_version is not None
    actions = list(
        AuditEvent.objects.filter(campaign=campaign)
        .order_by("id")
        .values_list("action", "actor__username")
    )
    assert actions == [
        ("edit", "marketer"),
        ("submit_for_review", "marketer"),
        ("approve", "approver"),
        ("activate", "approver"),
    ]


def test_the_last_editor_cannot_approve_even_with_the_permission(approver: User) -> None:
    campaign = _edited_by(approver)
    lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=approver))

    with pytest.raises(NotPermitted) as caught:
        lifecycle.campaign_approve(campaign=campaign, actor=Actor(user=approver))

    assert caught.value.code == "four_eyes"
    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW


def test_a_user_without_the_approve_permission_cannot_approve(marketer: User) -> None:
    other = User.objects.create_user("colleague", password="x-pass-123", is_staff=True)
    campaign = _edited_by(marketer)
    lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))

    with pytest.raises(NotPermitted):
        lifecycle.campaign_approve(campaign=campaign, actor=Actor(user=other))

    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW


def test_rejected_campaign_returns_to_draft_and_can_be_edited(
    marketer: User, approver: User
) -> None:
    campaign = _edited_by(marketer)
    lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))

    campaign = lifecycle.campaign_reject(
        campaign=campaign, actor=Actor(user=approver), reason="typo"
    )

    assert campaign.status == Status.DRAFT
    assert AuditEvent.objects.get(action="reject").detail == {"reason": "typo"}
    campaign_update(campaign=campaign, data={"name": "Fixed"}, actor=Actor(user=marketer))


def test_in_review_campaign_cannot_be_edited(marketer: User) -> None:
    campaign = _edited_by(marketer)
    lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))

    with pytest.raises(InvalidTransition):
        campaign_update(campaign=campaign, data={"name": "Sneaky"}, actor=Actor(user=marketer))


def test_publishing_a_draft_version_needs_a_second_approver(marketer: User, approver: User) -> None:
    campaign = _edited_by(marketer)
    lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))
    campaign = lifecycle.campaign_approve(campaign=campaign, actor=Actor(user=approver))
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=Actor(user=marketer))
    campaign_update(campaign=campaign, data={"description": "v2"}, actor=Actor(user=marketer))

    with pytest.raises(NotPermitted):
        lifecycle.campaign_publish(campaign=campaign, actor=Actor(user=marketer))
    campaign = lifecycle.campaign_publish(campaign=campaign, actor=Actor(user=approver))

    assert campaign.live_version is not None
    assert campaign.live_version.number == 2


def test_submit_is_refused_when_approval_is_off(settings: SettingsWrapper, marketer: User) -> None:
    settings.CLARION_REQUIRE_APPROVAL = False
    campaign = _edited_by(marketer)

    with pytest.raises(InvalidTransition) as caught:
        lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))

    assert caught.value.code == "approval_not_required"
