"""The role groups (core/roles.py): what a marketer and an approver may see and do."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from campaigns.models import Campaign, Status
from core.roles import (
    APPROVER_PERMISSIONS,
    APPROVERS,
    MARKETER_PERMISSIONS,
    MARKETERS,
    roles_ensure,
)
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db


def _names(group: Group) -> list[str]:
    return sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    )


def _in_role(role: str, username: str) -> User:
    user = UserFactory.create(username=username)
    user.groups.add(roles_ensure()[role])
    return user


def _navigation(user: User) -> dict[str, list[str]]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {
        str(group["name"]): [str(entry["name"]) for entry in group["models"]]
        for group in admin.site.get_app_list(request)
    }


def test_roles_ensure_creates_the_groups_with_exactly_their_permissions() -> None:
    # Given a Marketers group someone gave an extra permission by hand
    extra = Permission.objects.get(codename="add_periodictask")
    Group.objects.create(name=MARKETERS).permissions.add(extra)

    # When the roles are ensured, twice
    roles_ensure()
    call_command("roles_ensure", stdout=StringIO())

    # Then each group holds exactly its role's permissions, and there are two groups
    assert Group.objects.count() == 2
    assert _names(Group.objects.get(name=MARKETERS)) == sorted(MARKETER_PERMISSIONS)
    assert _names(Group.objects.get(name=APPROVERS)) == sorted(APPROVER_PERMISSIONS)
    assert "campaigns.approve_campaign" not in MARKETER_PERMISSIONS


def test_a_marketer_sees_the_authoring_groups_and_no_schedules() -> None:
    marketer = _in_role(MARKETERS, "mara")

    assert _navigation(marketer) == {
        "Campaigns": ["Campaigns", "Campaign versions"],
        "Audiences & profiles": ["Audiences", "Profiles", "Profile imports", "Suppression list"],
        "Messages & executions": ["Executions", "Messages"],
        "Reports": ["Campaign reports"],
        "Settings": ["Channel configurations", "Identity namespaces", "Tags"],
        "Administration": ["Audit events"],
    }


def test_an_approver_sees_what_they_approve() -> None:
    approver = _in_role(APPROVERS, "abe")

    assert _navigation(approver) == {
        "Campaigns": ["Campaigns", "Campaign versions"],
        "Audiences & profiles": ["Audiences"],
        "Messages & executions": ["Executions", "Messages"],
        "Reports": ["Campaign reports"],
        "Settings": ["Channel configurations", "Tags"],
        "Administration": ["Audit events"],
    }


def test_a_marketer_cannot_open_periodic_tasks_or_schedules(client: Client) -> None:
    client.force_login(_in_role(MARKETERS, "mara"))

    for model in ("periodictask", "crontabschedule", "intervalschedule", "solarschedule"):
        response = client.get(f"/admin/django_celery_beat/{model}/")
        assert response.status_code == 403, model
    assert client.get("/admin/django_celery_beat/").status_code == 404
    assert client.get("/admin/auth/user/").status_code == 403
    # What the role is for opens
    for url in ("/admin/", "/admin/campaigns/campaign/add/", "/admin/reports/"):
        assert client.get(url).status_code == 200, url


def _action(client: Client, campaign: Campaign, action: str) -> str:
    """Press a lifecycle button; what the page then says."""
    url = reverse("admin:campaigns_campaign_action", args=[campaign.pk, action])
    response = client.post(url)
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_with_approval_a_marketer_submits_and_only_the_approver_approves(
    client: Client, settings: SettingsWrapper
) -> None:
    # Given approval required, a marketer and an approver
    settings.CLARION_REQUIRE_APPROVAL = True
    marketer = _in_role(MARKETERS, "mara")
    approver = _in_role(APPROVERS, "abe")
    campaign = CampaignFactory.create()
    client.force_login(marketer)

    # When the marketer submits the campaign, then tries to approve it
    _action(client, campaign, "submit_for_review")
    refused = _action(client, campaign, "approve")

    # Then it waits for approval
    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW
    assert refused == "Approving needs the “approve campaigns” permission."
    assert campaign.live_version_id is None

    # When the approver approves it
    client.force_login(approver)
    done = _action(client, campaign, "approve")

    # Then it is live
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE
    assert done == "Approved: the campaign is now Live."
