"""The admin's navigation (config/admin_site.py): grouped the way a marketer thinks, each
person seeing only the groups and entries their permissions allow."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client, RequestFactory

from config.admin_site import NAVIGATION
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GROUPS = [
    "Campaigns",
    "Audiences & profiles",
    "Messages & executions",
    "Reports",
    "Settings",
    "Administration",
]


def _navigation(user: User) -> dict[str, list[str]]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {
        str(group["name"]): [str(entry["name"]) for entry in group["models"]]
        for group in admin.site.get_app_list(request)
    }


def test_every_registered_model_has_a_group() -> None:
    # Given every model registered with the admin
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}

    # Then the navigation names each exactly once (none would fall under "Other")
    named = [name for group in NAVIGATION for name in group.models]
    assert sorted(named) == sorted(set(named))
    assert registered - set(named) == set()
    assert set(named) - registered == set()


def test_a_superuser_sees_every_group_in_the_marketers_order(admin_user_obj: User) -> None:
    navigation = _navigation(admin_user_obj)

    assert list(navigation) == GROUPS
    assert navigation["Campaigns"] == ["Campaigns", "Campaign versions"]
    assert navigation["Audiences & profiles"] == [
        "Audiences",
        "Profiles",
        "Profile imports",
        "Suppression list",
    ]
    assert navigation["Messages & executions"] == ["Executions", "Messages"]
    assert navigation["Reports"] == ["Campaign reports"]
    assert navigation["Settings"] == [
        "Channel configurations",
        "API keys",
        "Identity namespaces",
        "Access labels",
        "Tags",
        "Webhook endpoints",
        "Webhook deliveries",
        "Webhook attempts",
    ]
    assert navigation["Administration"] == [
        "Users",
        "Groups",
        "Periodic tasks",
        "Crontabs",
        "Intervals",
        "Clocked",
        "Solar events",
        "Audit events",
        "API key events",
    ]


def test_a_user_sees_only_the_entries_their_permissions_allow() -> None:
    # Given a staff user who may only view messages
    user = UserFactory.create(username="reader")
    user.user_permissions.set(Permission.objects.filter(codename="view_message"))

    # Then one group, one entry: no empty group, no report without campaigns
    assert _navigation(user) == {"Messages & executions": ["Messages"]}


def test_the_index_and_the_sidebar_show_the_groups(client: Client, admin_user_obj: User) -> None:
    client.force_login(admin_user_obj)

    index = client.get("/admin/")
    changelist = client.get("/admin/campaigns/campaign/")

    for response in (index, changelist):
        html = response.content.decode()
        assert response.status_code == 200
        assert [str(app["name"]) for app in _apps(response)] == GROUPS
        assert '<span class="section">Audiences &amp; profiles</span>' in html
        assert 'href="/admin/reports/"' in html
        assert "Models in the" not in html  # a group is not an application
    # The list of one app (/admin/<app>/) stays Django's, with its own link
    app_page = client.get("/admin/audiences/")
    assert app_page.status_code == 200
    assert '<a href="/admin/audiences/" class="section"' in app_page.content.decode()


def _apps(response: Any) -> list[dict[str, Any]]:
    context = response.context
    return context.get("app_list") or context["available_apps"]
