"""Audience routes (/api/v1/audiences...). Ids are parsed by the views: a bad one is a 404."""

from __future__ import annotations

from django.urls import URLPattern, path

from audiences.api.audiences import (
    AudienceCollectionApi,
    AudienceDetailApi,
    AudienceEstimateApi,
    AudienceMembersApi,
)

_ONE = "audiences/<str:audience_id>"

urlpatterns: list[URLPattern] = [
    path("audiences", AudienceCollectionApi.as_view(), name="api-audiences"),
    path(_ONE, AudienceDetailApi.as_view(), name="api-audience"),
    path(f"{_ONE}/estimate", AudienceEstimateApi.as_view(), name="api-audience-estimate"),
    path(f"{_ONE}/members", AudienceMembersApi.as_view(), name="api-audience-members"),
]
