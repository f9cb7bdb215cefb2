"""Admins around campaigns: audit log, versions, channel configurations, tags."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import AuditEvent
from campaigns.services import lifecycle
from core.actors import Actor
from tests.factories import AccessLabelFactory, CampaignFactory, ChannelConfigurationFactory

pytestmark = pytest.mark.django_db


def test_the_audit_log_is_read_only_and_filtered_by_campaign(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Receipts")
    lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())
    CampaignFactory.create(name="Other")
    event = AuditEvent.objects.get(campaign=campaign)

    listing = admin_client.get(
        reverse("admin:campaigns_auditevent_changelist") + f"?campaign__id__exact={campaign.pk}"
    )
    searched = admin_client.get(reverse("admin:campaigns_auditevent_changelist") + "?q=Recei")
    detail = admin_client.get(reverse("admin:campaigns_auditevent_change", args=[event.pk]))
    add = admin_client.get(reverse("admin:campaigns_auditevent_add"))

    assert [e.action for e in listing.context["cl"].result_list] == ["activate"]
    assert [e.campaign_name for e in searched.context["cl"].result_list] == ["Receipts"]
    assert detail.status_code == 200
    assert 'name="action"' not in detail.content.decode()
    assert add.status_code == 403


def test_audit_actions_are_named_in_the_readers_language(admin_client: Client) -> None:
    # given an activated campaign, and a reader of zh-Hant
    campaign = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(name="Receipts"), actor=Actor.system()
    )
    changelist = reverse("admin:campaigns_auditevent_changelist")

    # when the audit log, filtered by action, and the campaign's page are read
    listing = admin_client.get(changelist + "?action=activate", HTTP_ACCEPT_LANGUAGE="zh-hant")
    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )

    # then the action is named, not its code; the filter offers the names too
    assert [e.action for e in listing.context["cl"].result_list] == ["activate"]
    assert '<td class="field-action_label">已啟用</td>' in listing.content.decode()
    assert re.search(r'<a href="\?action=activate"[^>]*>已啟用</a>', listing.content.decode())
    assert " — 已啟用 — " in page.content.decode()


def test_a_version_is_shown_read_only_as_pretty_json(admin_client: Client) -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())
    assert campaign.live_version is not None

    response = admin_client.get(
        reverse("admin:campaigns_campaignversion_change", args=[campaign.live_version.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    # PostgreSQL's jsonb keeps its own key order, so look for the pieces, not the order.
    assert '<pre class="clarion-json">{\n  &quot;' in html
    assert "\n  &quot;schemaVersion&quot;: 1," in html
    assert "\n  &quot;name&quot;: " in html


def test_a_channel_configuration_is_checked_for_its_channel(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:campaigns_channelconfiguration_add"),
        {"name": "Texts", "channel": "sms", "is_active": "on"},
    )

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"sms_sender", "sms_provider"}
    listing = admin_client.get(reverse("admin:campaigns_channelconfiguration_changelist"))
    assert listing.status_code == 200
    ChannelConfigurationFactory.create(name="Mail")
    assert (
        "Mail"
        in admin_client.get(
            reverse("admin:campaigns_channelconfiguration_changelist")
        ).content.decode()
    )


def test_labels_and_tags_admins_list_their_rows(admin_client: Client) -> None:
    AccessLabelFactory.create(name="vip")

    labels = admin_client.get(reverse("admin:core_accesslabel_changelist"))
    tags = admin_client.get(reverse("admin:campaigns_tag_changelist"))

    assert "vip" in labels.content.decode()
    assert tags.status_code == 200
