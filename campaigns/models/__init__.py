"""Campaign authoring models."""

from campaigns.models.audit import AuditEvent
from campaigns.models.campaign import (
    CONTENT_PARTS,
    TRACKING_BY_CHANNEL,
    Campaign,
    CampaignContent,
    CampaignVersion,
    Category,
    Status,
)
from campaigns.models.channel import ChannelConfiguration
from campaigns.models.tag import Tag
from core.channels import Channel

__all__ = [
    "CONTENT_PARTS",
    "TRACKING_BY_CHANNEL",
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
