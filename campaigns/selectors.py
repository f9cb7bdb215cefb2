"""Reading campaigns: visibility through access labels."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.actors import Actor
from campaigns.models import AccessLabel, Campaign, ChannelConfiguration


def access_labels_held(actor: Actor) -> set[int] | None:
    """Ids of the labels ``actor`` holds; None means all (superusers, the system)."""
    if actor.api_key is not None:
        return set(actor.api_key.access_labels.values_list("id", flat=True))
    user = actor.db_user
    if user is None:
        return None if actor.user is None else set()
    if actor.is_superuser:
        return None
    return set(AccessLabel.objects.filter(groups__user=user).values_list("id", flat=True))


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
