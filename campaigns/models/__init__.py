"""Campaign authoring models."""

from campaigns.models.access import AccessLabel, ApiKey, Tag
from campaigns.models.audit import AuditEvent
from campaigns.models.campaign import (
    CONTENT_PARTS,
    HTML_PARTS,
    LINK_PARTS,
    Campaign,
    CampaignContent,
    CampaignVersion,
    Category,
    Channel,
    Status,
)
from campaigns.models.channel import ChannelConfiguration

__all__ = [
    "CONTENT_PARTS",
    "HTML_PARTS",
    "LINK_PARTS",
    "AccessLabel",
    "ApiKey",
    "AuditEvent",
    "Campaign",
    "CampaignContent",
    "CampaignVersion",
    "Category",
    "Channel",
    "ChannelConfiguration",
    "Status",
    "Tag",
]
