"""Pieces the campaign API views share: lookups and path parameters."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from campaigns.models import Campaign, ChannelConfiguration
from campaigns.selectors import campaign_list_visible
from core.actors import Actor
from core.api.lookups import object_or_404


def campaign_for_actor(*, campaign_id: str, actor: Actor) -> Campaign:
    """The campaign, if ``actor`` may see it; 404 otherwise, so hidden ones stay secret."""
    return object_or_404(
        campaign_list_visible(actor=actor).select_related("identity_namespace", "live_version"),
        campaign_id,
        not_found=_("No campaign has the id “%s”.") % campaign_id,
    )


def channel_configuration_or_404(configuration_id: str) -> ChannelConfiguration:
    return object_or_404(
        ChannelConfiguration.objects.all(),
        configuration_id,
        not_found=_("No channel configuration has the id “%s”.") % configuration_id,
    )


CAMPAIGN_ID = OpenApiParameter(
    "campaign_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The campaign's id."
)
CHANNEL_CONFIGURATION_ID = OpenApiParameter(
    "configuration_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The channel configuration's id.",
)
