"""The dashboard's context and the reports index page, shown by the admin site
(config/admin_site.py), each part only to those whose permissions allow it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.actors import Actor
from delivery.dashboard.selectors import (
    Sends,
    campaign_counts,
    campaign_list_running,
    campaign_list_waiting_for_approval,
    campaign_list_with_sends,
    execution_list_recent,
    sends_read,
    webhook_endpoint_list_disabled,
)

CAMPAIGN_READERS = ("campaigns.view_campaign", "campaigns.change_campaign")
APPROVE_PERMISSION = "campaigns.approve_campaign"
REPORTS_PER_PAGE = 50


def _any_perm(request: HttpRequest, *perms: str) -> bool:
    return any(request.user.has_perm(perm) for perm in perms)


def _chart(sends: Sends) -> dict[str, Any]:
    return {
        "labels": [date_format(day.day, "SHORT_DATE_FORMAT") for day in sends.days],
        "series": [
            {"label": _("Sent"), "data": [day.sent for day in sends.days]},
            {"label": _("Failed"), "data": [day.failed for day in sends.days]},
        ],
    }


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the home page shows this person: each part needs its own permission."""
    actor = Actor(user=request.user)
    context: dict[str, Any] = {"dashboard": True}
    if _any_perm(request, *CAMPAIGN_READERS):
        sends = sends_read(actor=actor)
        threshold = settings.CLARION_DASHBOARD_FAILURE_RATE
        rate = sends.failure_rate
        context |= {
            "campaign_counts": campaign_counts(actor=actor),
            "running": campaign_list_running(actor=actor),
            "waiting": campaign_list_waiting_for_approval(actor=actor),
            "is_approver": request.user.has_perm(APPROVE_PERMISSION),
            "sends": sends,
            "chart_data": _chart(sends),
            "failure_rate_percent": None if rate is None else round(100 * rate, 1),
            "failure_threshold_percent": round(100 * threshold, 1),
            "failure_rate_high": rate is not None and rate > threshold,
        }
    if _any_perm(request, "delivery.view_execution", "delivery.change_execution"):
        context["executions"] = execution_list_recent(actor=actor)
    if _any_perm(request, "delivery.view_webhookendpoint", "delivery.change_webhookendpoint"):
        context["disabled_endpoints"] = webhook_endpoint_list_disabled()
    return context


def reports_index_view(request: HttpRequest, *, each_context: dict[str, Any]) -> TemplateResponse:
    """Campaigns that sent something, each linking to its report; 403 without campaign view."""
    if not _any_perm(request, *CAMPAIGN_READERS):
        raise PermissionDenied
    campaigns = campaign_list_with_sends(actor=Actor(user=request.user))
    page = Paginator(campaigns, REPORTS_PER_PAGE).get_page(request.GET.get("p"))
    context = {
        **each_context,
        "title": _("Campaign reports"),
        "page": page,
        "campaigns": page.object_list,
    }
    return TemplateResponse(request, "admin/delivery/reports_index.html", context)
