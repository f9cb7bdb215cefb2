"""Admins around campaigns: API keys, audit log, versions, channel configurations, labels."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.actors import Actor
from campaigns.apikeys import api_key_authenticate, api_key_hash
from campaigns.models import ApiKey, AuditEvent
from campaigns.services import lifecycle
from tests.factories import AccessLabelFactory, CampaignFactory, ChannelConfigurationFactory

pytestmark = pytest.mark.django_db


def test_adding_an_api_key_shows_the_secret_once_and_stores_only_its_hash(
    admin_client: Client, admin_user: User
) -> None:
    AccessLabelFactory.create(name="eu")
    label_id = AccessLabelFactory.create(name="vip").pk

    form = admin_client.get(reverse("admin:campaigns_apikey_add"))
    response = admin_client.post(
        reverse("admin:campaigns_apikey_add"),
        {
            "name": "Shop backend",
            "scopes": ["executions:trigger", "campaigns:read"],
            "access_labels": [str(label_id)],
        },
    )

    assert form.status_code == 200
    assert 'value="executions:trigger"' in form.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("clr_")
    assert secret in response.content.decode()
    key = ApiKey.objects.get()
    assert key.scopes == ["campaigns:read", "executions:trigger"]
    assert [label.name for label in key.access_labels.all()] == ["vip"]
    assert key.created_by == admin_user
    assert key.key_hash == api_key_hash(secret)
    assert secret not in str(ApiKey.objects.values().get())
    assert api_key_authenticate(secret) == key

    listing = admin_client.get(reverse("admin:campaigns_apikey_changelist")).content.decode()
    change = admin_client.get(reverse("admin:campaigns_apikey_change", args=[key.pk]))
    assert key.prefix in listing
    assert secret not in listing
    assert secret not in change.content.decode()
    assert "key_hash" not in change.content.decode()


def test_an_api_key_without_a_name_is_refused_at_the_field(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:campaigns_apikey_add"), {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert ApiKey.objects.count() == 0


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


def test_a_version_is_shown_read_only_as_pretty_json(admin_client: Client) -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())
    assert campaign.live_version is not None

    response = admin_client.get(
        reverse("admin:campaigns_campaignversion_change", args=[campaign.live_version.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<pre class="clarion-json">{\n  &quot;schemaVersion&quot;: 1,\n  &quot;name&quot;' in html
    )


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

    labels = admin_client.get(reverse("admin:campaigns_accesslabel_changelist"))
    tags = admin_client.get(reverse("admin:campaigns_tag_changelist"))

    assert "vip" in labels.content.decode()
    assert tags.status_code == 200
