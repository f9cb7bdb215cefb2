"""The people who use the admin, as groups holding exactly the permissions their role
needs (docs/admin.md, "Roles"). ``roles_ensure`` creates or corrects the groups; it is
re-runnable, and ``manage.py roles_ensure`` and the demo data (``seed_demo``) call it.

Permissions are named here as ``app_label.codename`` strings: the roles span every
app, and naming a permission imports nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q

MARKETERS = "Marketers"
APPROVERS = "Approvers"


def _crud(
    app_label: str, *models: str, actions: tuple[str, ...] = ("add", "change", "delete", "view")
) -> tuple[str, ...]:
    return tuple(f"{app_label}.{action}_{model}" for model in models for action in actions)


# Marketers author campaigns, audiences and profiles, import profiles, send tests, and
# read messages, executions and reports. They do not approve: with approval required
# (CLARION_REQUIRE_APPROVAL), activating needs an approver (campaigns.approve_campaign).
# The audit log is readable so a campaign's page can link to its full history.
MARKETER_PERMISSIONS: tuple[str, ...] = (
    *_crud("campaigns", "campaign", "campaigncontent"),
    "campaigns.trigger_campaign",  # "Send test" on a live campaign
    "campaigns.view_campaignversion",
    "campaigns.view_channelconfiguration",
    *_crud("campaigns", "tag", actions=("add", "change", "view")),
    "campaigns.view_auditevent",
    *_crud("audiences", "audience"),
    *_crud("audiences", "profile", actions=("add", "change", "view")),
    *_crud("audiences", "profileimport", actions=("add", "view")),
    "audiences.view_suppression",
    "audiences.view_identitynamespace",
    "delivery.view_execution",
    "delivery.view_message",
)

# Approvers read what they approve (the campaign, its versions, audience, messages and
# report) and approve or send it back. Acting on the review page needs the change
# permission on campaigns; the lifecycle services check approve_campaign, and refuse an
# approver who edited the campaign last (four eyes).
APPROVER_PERMISSIONS: tuple[str, ...] = (
    "campaigns.view_campaign",
    "campaigns.change_campaign",
    "campaigns.approve_campaign",
    "campaigns.view_campaigncontent",
    "campaigns.view_campaignversion",
    "campaigns.view_channelconfiguration",
    "campaigns.view_tag",
    "campaigns.view_auditevent",
    "audiences.view_audience",
    "delivery.view_execution",
    "delivery.view_message",
)

ROLES: dict[str, tuple[str, ...]] = {
    MARKETERS: MARKETER_PERMISSIONS,
    APPROVERS: APPROVER_PERMISSIONS,
}


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        unknown = ", ".join(sorted(".".join(name) for name in missing))
        raise ImproperlyConfigured(f"Unknown permissions (are the migrations applied?): {unknown}")
    return found


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """The role groups, created where missing, each holding exactly its permissions
    (permissions given by hand to these groups are taken away; other groups are left)."""
    groups: dict[str, Group] = {}
    for name, permissions in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(permissions))
        groups[name] = group
    return groups
