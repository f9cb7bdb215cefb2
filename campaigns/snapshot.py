"""A campaign as data: the camelCase shape of the management API and of versions.

``campaign_to_data`` is what ``GET /api/v1/campaigns/{id}`` returns for the
editable fields and what a ``CampaignVersion`` freezes, so delivery, the API
and restoring a draft all read one shape.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from core.formats import iso_datetime

# Model field -> JSON pointer in the campaign document (errors, review checks).
FIELD_POINTERS: dict[str, str] = {
    "name": "/name",
    "description": "/description",
    "tags": "/tags",
    "access_labels": "/accessLabels",
    "category": "/category",
    "channel": "/channel",
    "channel_configuration": "/channelConfiguration",
    "track_opens": "/tracking/opens",
    "track_clicks": "/tracking/clicks",
    "throttle_rate": "/throttle/ratePerSecond",
    "identity_namespace": "/audience/identityNamespace",
    "create_new_profiles": "/audience/createNewProfiles",
    "audience": "/audience/audienceId",
    "start_at": "/schedule/startAt",
    "end_at": "/schedule/endAt",
    "default_locale": "/defaultLocale",
    "locale_attribute": "/localeAttribute",
}
POINTER_FIELDS: dict[str, str] = {pointer: name for name, pointer in FIELD_POINTERS.items()}

# The shape of a version's snapshot. Raise it when the shape changes incompatibly, and
# teach ``campaigns.versions`` to read the older numbers: frozen rows are never rewritten.
# Snapshots frozen before the number existed read as 1.
SNAPSHOT_SCHEMA_VERSION = 1


def campaign_content_data(campaign: Campaign) -> dict[str, dict[str, str]]:
    return {content.locale: content.parts(campaign.channel) for content in campaign.contents.all()}


def campaign_to_data(campaign: Campaign) -> dict[str, Any]:
    """The campaign's editable configuration and content, in API shape."""
    return {
        "name": campaign.name,
        "description": campaign.description,
        "tags": sorted(tag.name for tag in campaign.tags.all()),
        "accessLabels": sorted(label.name for label in campaign.access_labels.all()),
        "category": campaign.category,
        "channel": campaign.channel,
        "channelConfiguration": (
            str(campaign.channel_configuration_id) if campaign.channel_configuration_id else None
        ),
        "tracking": {"opens": campaign.track_opens, "clicks": campaign.track_clicks},
        "throttle": {"ratePerSecond": campaign.throttle_rate},
        "audience": {
            "identityNamespace": campaign.identity_namespace.code,
            "createNewProfiles": campaign.create_new_profiles,
            "audienceId": str(campaign.audience_id) if campaign.audience_id else None,
        },
        "schedule": {
            "startAt": iso_datetime(campaign.start_at),
            "endAt": iso_datetime(campaign.end_at),
        },
        "defaultLocale": campaign.default_locale,
        "localeAttribute": campaign.locale_attribute,
        "content": campaign_content_data(campaign),
    }


def campaign_version_snapshot(campaign: Campaign) -> dict[str, Any]:
    """What a version freezes: the campaign data plus the channel settings in force."""
    data = {"schemaVersion": SNAPSHOT_SCHEMA_VERSION, **campaign_to_data(campaign)}
    configuration = campaign.channel_configuration
    data["channelSettings"] = (
        {"name": configuration.name, "channel": configuration.channel, **configuration.summary()}
        if configuration is not None
        else None
    )
    return data
