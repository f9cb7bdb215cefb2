"""Reading campaigns: visibility through access labels."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.models import Campaign, CampaignVersion, ChannelConfiguration
from core.actors import Actor
from core.selectors import access_labels_not_held


def campaign_list_visible(*, actor: Actor) -> QuerySet[Campaign]:
    """Campaigns whose every access label ``actor`` holds, in one query.

    The labels in force are the live version's once the campaign has one: a
    draft edit that removes a label must not expose the live campaign, and one
    that adds a label hides it only when published. Drafts use the row's labels.
    """
    queryset = Campaign.objects.all()
    not_held = access_labels_not_held(actor)
    if not_held is None:
        return queryset
    row_label_not_held = Campaign.access_labels.through.objects.filter(
        campaign_id=OuterRef("pk"), accesslabel__in=not_held
    )
    version_label_not_held = CampaignVersion.access_labels.through.objects.filter(
        campaignversion_id=OuterRef("live_version_id"), accesslabel__in=not_held
    )
    hidden = Q(Exists(row_label_not_held), live_version__isnull=True) | Q(
        Exists(version_label_not_held), live_version__isnull=False
    )
    return queryset.filter(~hidden)


def campaign_is_visible(*, campaign: Campaign, actor: Actor) -> bool:
    if access_labels_not_held(actor) is None:
        return True
    return campaign_list_visible(actor=actor).filter(pk=campaign.pk).exists()


def channel_configuration_list(*, channel: str | None = None) -> QuerySet[ChannelConfiguration]:
    queryset = ChannelConfiguration.objects.filter(is_active=True)
    return queryset.filter(channel=channel) if channel else queryset
