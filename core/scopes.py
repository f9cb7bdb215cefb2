"""API key scopes: what a key may do, one scope per kind of operation."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CAMPAIGNS_READ = "campaigns:read"
CAMPAIGNS_WRITE = "campaigns:write"
EXECUTIONS_TRIGGER = "executions:trigger"
EXECUTIONS_READ = "executions:read"
PROFILES_READ = "profiles:read"
PROFILES_WRITE = "profiles:write"

# The brief's trigger contract lists these six; the description is what the admin shows.
SCOPES: dict[str, Promise] = {
    CAMPAIGNS_READ: _("Read campaigns, versions and channel configurations"),
    CAMPAIGNS_WRITE: _("Create, edit and change the status of campaigns"),
    EXECUTIONS_TRIGGER: _("Trigger campaign executions"),
    EXECUTIONS_READ: _("Read executions and their messages"),
    PROFILES_READ: _("Read profiles and audiences"),
    PROFILES_WRITE: _("Create, update and erase profiles and audiences"),
}

# The permissions a signed-in user needs to hold a scope, and so to give it to a key:
# every permission the API asks of a user for an operation that scope opens (each
# view's ``access`` rules). tests/core/test_scopes.py walks the URL patterns and fails
# when a view asks for a permission that is missing here.
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    CAMPAIGNS_READ: ("campaigns.view_campaign", "campaigns.view_channelconfiguration"),
    CAMPAIGNS_WRITE: (
        "campaigns.add_campaign",
        "campaigns.change_campaign",
        "campaigns.delete_campaign",
    ),
    # A key that triggers may also read what it triggered.
    EXECUTIONS_TRIGGER: ("campaigns.trigger_campaign", "delivery.view_execution"),
    EXECUTIONS_READ: ("delivery.view_execution",),
    PROFILES_READ: ("audiences.view_profile", "audiences.view_audience"),
    PROFILES_WRITE: (
        "audiences.change_profile",
        "audiences.delete_profile",
        "audiences.add_audience",
        "audiences.change_audience",
    ),
}
