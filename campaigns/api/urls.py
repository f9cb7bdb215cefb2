"""Management API routes (/api/v1/).

Ids are matched as plain strings and parsed by the views, so a malformed id
is a problem+json 404 like an unknown one.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from campaigns.api import actions
from campaigns.api.campaigns import CampaignCollectionApi, CampaignDetailApi
from campaigns.api.channel_configurations import (
    ChannelConfigurationDetailApi,
    ChannelConfigurationListApi,
)

_ONE = "campaigns/<str:campaign_id>"

urlpatterns: list[URLPattern] = [
    path("campaigns", CampaignCollectionApi.as_view(), name="api-campaigns"),
    path(_ONE, CampaignDetailApi.as_view(), name="api-campaign"),
    path(f"{_ONE}/review", actions.CampaignReviewApi.as_view(), name="api-campaign-review"),
    path(f"{_ONE}/activate", actions.CampaignActivateApi.as_view(), name="api-campaign-activate"),
    path(f"{_ONE}/submit", actions.CampaignSubmitApi.as_view(), name="api-campaign-submit"),
    path(f"{_ONE}/stop", actions.CampaignStopApi.as_view(), name="api-campaign-stop"),
    path(f"{_ONE}/archive", actions.CampaignArchiveApi.as_view(), name="api-campaign-archive"),
    path(
        f"{_ONE}/duplicate", actions.CampaignDuplicateApi.as_view(), name="api-campaign-duplicate"
    ),
    path(
        f"{_ONE}/draft-version",
        actions.CampaignDraftVersionApi.as_view(),
        name="api-campaign-draft-version",
    ),
    path(f"{_ONE}/publish", actions.CampaignPublishApi.as_view(), name="api-campaign-publish"),
    path(
        f"{_ONE}/discard-draft",
        actions.CampaignDiscardDraftApi.as_view(),
        name="api-campaign-discard-draft",
    ),
    path(
        f"{_ONE}/versions", actions.CampaignVersionListApi.as_view(), name="api-campaign-versions"
    ),
    path(f"{_ONE}/previews", actions.CampaignPreviewApi.as_view(), name="api-campaign-previews"),
    path(
        "channel-configurations",
        ChannelConfigurationListApi.as_view(),
        name="api-channel-configurations",
    ),
    path(
        "channel-configurations/<str:configuration_id>",
        ChannelConfigurationDetailApi.as_view(),
        name="api-channel-configuration",
    ),
]
