"""Pieces every management API view uses: lookups and schema snippets."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions

from campaigns.actors import Actor
from campaigns.api.serializers import ProblemSerializer
from campaigns.models import Campaign, ChannelConfiguration
from campaigns.selectors import campaign_list_visible
from config.problems import PROBLEM_CONTENT_TYPE


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise exceptions.NotFound(_("No campaign has the id “%s”.") % value) from None


def campaign_for_actor(*, campaign_id: str, actor: Actor) -> Campaign:
    """The campaign, if ``actor`` may see it; 404 otherwise, so hidden ones stay secret."""
    pk = _uuid_or_404(campaign_id)
    campaign = (
        campaign_list_visible(actor=actor)
        .select_related("identity_namespace", "live_version")
        .filter(pk=pk)
        .first()
    )
    if campaign is None:
        raise exceptions.NotFound(_("No campaign has the id “%s”.") % campaign_id)
    return campaign


def channel_configuration_or_404(configuration_id: str) -> ChannelConfiguration:
    try:
        pk = uuid.UUID(configuration_id)
    except ValueError:
        pk = None
    configuration = ChannelConfiguration.objects.filter(pk=pk).first() if pk else None
    if configuration is None:
        raise exceptions.NotFound(_("No channel configuration has the id “%s”.") % configuration_id)
    return configuration


CAMPAIGN_ID = OpenApiParameter(
    "campaign_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The campaign's id."
)
CHANNEL_CONFIGURATION_ID = OpenApiParameter(
    "configuration_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The channel configuration's id.",
)

_PROBLEM_MEANING = {
    400: "The request does not match this document: malformed JSON, a wrong type, an unknown "
    "field, a value outside the declared limits (a pointer per field).",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope, or the user the permission.",
    404: "No such resource, or hidden by access labels.",
    409: "The campaign's status does not allow this.",
    413: "The body is larger than 1 MB.",
    415: "The body is not application/json.",
    422: "The request matches this document but its values are not acceptable: a reference "
    "to nothing, a name in use, a locale or template that does not parse; or review checks "
    "failed (a pointer per field).",
}


def problems(*statuses: int) -> dict[Any, Any]:
    """Schema responses for the problems an operation can answer with."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_PROBLEM_MEANING[status]
        )
        for status in (401, 403, *statuses)
    }
