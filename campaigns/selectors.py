"""Reading campaigns: visibility through access labels."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import Campaign, ChannelConfiguration
from core.actors import Actor
from core.models import AccessLabel
from core.selectors import access_labels_held


def campaign_list_visible(*, actor: Actor) -> QuerySet[Campaign]:
    """Campaigns whose every access label ``actor`` holds."""
    queryset = Campaign.objects.all()
    held = access_labels_held(actor)
    if held is None:
        return queryset
    return queryset.exclude(access_labels__in=AccessLabel.objects.exclude(id__in=held))


def campaign_is_visible(*, campaign: Campaign, actor: Actor) -> bool:
    held = access_labels_held(actor)
    if held is None:
        return True
    return set(campaign.access_labels.values_list("id", flat=True)) <= held


def channel_configuration_list(*, channel: str | None = None) -> QuerySet[ChannelConfiguration]:
    queryset = ChannelConfiguration.objects.filter(is_active=True)
    return queryset.filter(channel=channel) if channel else queryset
