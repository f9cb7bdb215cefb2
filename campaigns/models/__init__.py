"""Campaign authoring models."""

from campaigns.models.audit import AuditEvent
from campaigns.models.campaign import (
    CONTENT_PARTS,
    HTML_PARTS,
    LINK_PARTS,
    TRACKING_BY_CHANNEL,
    Campaign,
    CampaignContent,
    CampaignVersion,
    Category,
    Status,
)
from campaigns.models.channel import ChannelConfiguration
from campaigns.models.tag import Tag

__all__ = [
    "CONTENT_PARTS",
    "HTML_PARTS",
    "LINK_PARTS",
    "TRACKING_BY_CHANNEL",
    "AuditEvent",
    "Campaign",
    "CampaignContent",
    "CampaignVersion",
    "Category",
    "ChannelConfiguration",
    "Status",
    "Tag",
]
