"""Clarion's admin site: its name, the marketer's navigation, the dashboard and the
reports index (issue 10, "The shell").

The navigation regroups the registered models the way a marketer thinks, not by
Django app: ``NAVIGATION`` is the whole table. Each entry shows only when the
person may view or change it (the model admins' own permission checks), and a
group with no entry left is not shown, so a marketer never sees crontabs or solar
events. A model no group names still shows, under "Other": registering a model
never hides it (tests/test_navigation.py asserts that every registered model has a
group).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from delivery.dashboard.views import dashboard_context, reports_index_view

CAMPAIGN_READERS = ("campaigns.view_campaign", "campaigns.change_campaign")


@dataclass(frozen=True)
class NavView:
    """A page of the site's own (not a model's list) in the navigation."""

    key: str
    name: str | Promise
    url_name: str
    permissions: tuple[str, ...]  # any one of them opens the page

    def allowed(self, request: HttpRequest) -> bool:
        return any(request.user.has_perm(perm) for perm in self.permissions)

    def entry(self, site: admin.AdminSite) -> dict[str, Any]:
        """The page as an entry of admin/app_list.html, like a view-only model's."""
        return {
            "model": None,
            "name": self.name,
            "object_name": self.key,
            "perms": {"add": False, "change": False, "delete": False, "view": True},
            "admin_url": reverse(self.url_name, current_app=site.name),
            "add_url": None,
            "view_only": True,
        }


@dataclass(frozen=True)
class NavGroup:
    """One heading of the navigation: models as ``app_label.model_name``, in order."""

    key: str
    name: str | Promise
    models: tuple[str, ...] = ()
    views: tuple[NavView, ...] = field(default_factory=tuple)


NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup(
        "campaigns",
        _("Campaigns"),
        models=("campaigns.campaign", "campaigns.campaignversion"),
    ),
    NavGroup(
        "audiences",
        _("Audiences & profiles"),
        models=(
            "audiences.audience",
            "audiences.profile",
            "audiences.profileimport",
            "audiences.suppression",
        ),
    ),
    NavGroup(
        "activity",
        _("Messages & executions"),
        models=("delivery.execution", "delivery.message"),
    ),
    NavGroup(
        "reports",
        _("Reports"),
        views=(NavView("reports", _("Campaign reports"), "admin:reports", CAMPAIGN_READERS),),
    ),
    NavGroup(
        "settings",
        _("Settings"),
        models=(
            "campaigns.channelconfiguration",
            "core.apikey",
            "audiences.identitynamespace",
            "core.accesslabel",
            "campaigns.tag",
            "delivery.webhookendpoint",
            "delivery.webhookdelivery",
            "delivery.webhookattempt",
        ),
    ),
    NavGroup(
        "administration",
        _("Administration"),
        models=(
            "auth.user",
            "auth.group",
            "django_celery_beat.periodictask",
            "django_celery_beat.crontabschedule",
            "django_celery_beat.intervalschedule",
            "django_celery_beat.clockedschedule",
            "django_celery_beat.solarschedule",
            "campaigns.auditevent",
            "core.apikeyevent",
        ),
    ),
)
OTHER = NavGroup("other", _("Other"))


def _model_key(entry: dict[str, Any]) -> str:
    meta = entry["model"]._meta
    return f"{meta.app_label}.{meta.model_name}"


class ClarionAdminSite(admin.AdminSite):
    """The admin as Clarion: its name, grouped navigation, dashboard and reports index."""

    site_header = _("Clarion")
    site_title = _("Clarion")
    index_title = _("Dashboard")
    index_template = "admin/delivery/dashboard.html"
    site_url = None  # "/" leads back to the admin: no "View site" link

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        """The navigation groups this person may see; one app's page keeps Django's list."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        entries = {
            _model_key(entry): entry
            for app in self._build_app_dict(request).values()
            for entry in app["models"]
        }
        groups = []
        for group in NAVIGATION:
            models = [entries.pop(name) for name in group.models if name in entries]
            models += [view.entry(self) for view in group.views if view.allowed(request)]
            if models:
                groups.append(self._group(group, models))
        if entries:  # registered, but in no group: shown rather than hidden
            groups.append(self._group(OTHER, sorted(entries.values(), key=lambda e: e["name"])))
        return groups

    @staticmethod
    def _group(group: NavGroup, models: list[dict[str, Any]]) -> dict[str, Any]:
        # No app_url: a group is no app, and has no page of its own (admin/app_list.html).
        return {
            "name": group.name,
            "app_label": group.key,
            "app_url": "",
            "has_module_perms": True,
            "models": models,
        }

    def get_urls(self) -> list[URLResolver | URLPattern]:
        own = [
            path("reports/", self.admin_view(self.reports_view), name="reports"),
        ]
        return own + super().get_urls()

    def reports_view(self, request: HttpRequest) -> TemplateResponse:
        return reports_index_view(request, each_context=self.each_context(request))

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The dashboard (delivery.dashboard), the navigation beside it."""
        context = {**dashboard_context(request), **(extra_context or {})}
        return super().index(request, extra_context=context)
