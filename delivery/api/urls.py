"""Trigger API routes (/api/v1/executions/...) and campaign reports (.../report).

Ids are parsed by the views (404 when malformed).
"""

from __future__ import annotations

from django.urls import URLPattern, path

from delivery.api.executions import (
    ExecutionAudienceCreateApi,
    ExecutionDetailApi,
    ExecutionScheduleDetailApi,
    ExecutionUnitaryCreateApi,
)
from delivery.api.reports import CampaignReportApi

urlpatterns: list[URLPattern] = [
    path("executions/unitary", ExecutionUnitaryCreateApi.as_view(), name="api-executions-unitary"),
    path(
        "executions/audience", ExecutionAudienceCreateApi.as_view(), name="api-executions-audience"
    ),
    path(
        "executions/schedules/<str:schedule_id>",
        ExecutionScheduleDetailApi.as_view(),
        name="api-execution-schedule",
    ),
    path("executions/<str:execution_id>", ExecutionDetailApi.as_view(), name="api-execution"),
    path(
        "campaigns/<str:campaign_id>/report",
        CampaignReportApi.as_view(),
        name="api-campaign-report",
    ),
]
