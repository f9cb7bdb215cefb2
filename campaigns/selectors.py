"""Reading campaigns: visibility through access labels."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.actors import Actor
from campaigns.models import AccessLabel, Campaign, CampaignVersion, ChannelConfiguration


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


def _labels_not_held(actor: Actor) -> QuerySet[AccessLabel] | None:
    """The labels ``actor`` lacks, as a subquery; None when it holds them all."""
    if actor.api_key is not None:
        return AccessLabel.objects.exclude(api_keys=actor.api_key)
    user = actor.db_user
    if user is None:
        return None if actor.user is None else AccessLabel.objects.all()
    if actor.is_superuser:
        return None
    return AccessLabel.objects.exclude(groups__user=user)


def campaign_list_visible(*, actor: Actor) -> QuerySet[Campaign]:
    """Campaigns whose every access label ``actor`` holds, in one query.

    The labels in force are the live version's once the campaign has one: a
    draft edit that removes a label must not expose the live campaign, and one
    that adds a label hides it only when published. Drafts use the row's labels.
    """
    queryset = Campaign.objects.all()
    not_held = _labels_not_held(actor)
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
    if _labels_not_held(actor) is None:
        return True
    return campaign_list_visible(actor=actor).filter(pk=campaign.pk).exists()


def channel_configuration_list(*, channel: str | None = None) -> QuerySet[ChannelConfiguration]:
    queryset = ChannelConfiguration.objects.filter(is_active=True)
    return queryset.filter(channel=channel) if channel else queryset
