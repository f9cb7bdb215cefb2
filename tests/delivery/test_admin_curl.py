"""The curl request a live campaign's page prints is accepted as printed (202)."""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from audiences.models import Audience, IdentityNamespace
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.factories import PushConfigurationFactory, SmsConfigurationFactory

pytestmark = pytest.mark.django_db


def _printed(client: Client, campaign: Any) -> tuple[str, str, dict[str, Any]]:
    """The change page's curl sample, split as a shell would: (path, help, JSON body)."""
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    words = shlex.split(page.context["curl_sample"].replace("\\\n", " "))
    assert words[:3] == ["curl", "-X", "POST"]
    assert "Authorization: Bearer <your API key>" in words
    body = json.loads(words[words.index("--data-binary") + 1])
    return urlsplit(words[3]).path, " ".join(page.context["curl_help"]), body


@pytest.mark.parametrize("create_new_profiles", [False, True])
def test_the_unitary_sample_of_an_email_campaign_is_accepted_as_printed(
    admin_client: Client,
    api_client,
    live_campaign,
    published,
    create_new_profiles: bool,
) -> None:
    campaign = live_campaign(create_new_profiles=create_new_profiles)
    path, help_text, body = _printed(admin_client, campaign)

    response = api_client(EXECUTIONS_TRIGGER).post(path, body, format="json")

    assert path == "/api/v1/executions/unitary"
    assert response.status_code == 202, response.content
    assert body["recipients"][0]["type"] == ("aep" if create_new_profiles else "external")
    assert body["recipients"][0]["profile"] == {
        "person": {"name": {"firstName": "<person.name.firstName>"}}
    }
    assert body["recipients"][0]["context"] == {"product": {"name": "<product.name>"}}
    explained = (
        '"type": "aep" sends to a profile Clarion stores.'
        if create_new_profiles
        else '"type": "external" sends to the address in the call only'
    )
    assert explained in help_text
    assert (
        '"userId" is the recipient\'s identifier in the identity namespace named by '
        '"namespace" (here email)'
    ) in help_text
    message = Message.objects.get()
    assert (message.address, message.status) == ("ana@example.com", "queued")


def test_the_unitary_samples_of_sms_and_push_campaigns_are_accepted_as_printed(
    admin_client: Client,
    api_client,
    live_campaign,
    published,
) -> None:
    sms = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        content={"en": {"body": "Code {{ context.code }}"}},
    )
    push = live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "Hi {{ profile.name }}", "body": "Shipped"}},
    )
    for campaign in (sms, push):
        path, _help, body = _printed(admin_client, campaign)
        # A key each: both samples carry the same placeholder requestId (the idempotency key).
        client = api_client(EXECUTIONS_TRIGGER, name=f"key for {campaign.channel}")
        response = client.post(path, body, format="json")
        assert response.status_code == 202, response.content

    assert Message.objects.get(channel="sms").address == "+14165550100"
    push_message = Message.objects.get(channel="push")
    assert push_message.push_info == {
        "appID": "com.example.shop",
        "platform": "android",
        "token": "<device token>",
    }


def test_a_marketing_campaign_prints_the_audience_call_and_it_is_accepted(
    admin_client: Client,
    api_client,
    live_campaign,
) -> None:
    audience = Audience.objects.create(name="Everyone", kind="static")
    campaign = live_campaign(
        category="marketing",
        audience=audience,
        content={
            "en": {
                "subject": "Hi {{ profile.firstName }}",
                "html": "<p>{{ context.offer.code }}</p>",
                "text": "{{ context.offer.code }}",
            }
        },
    )
    path, help_text, body = _printed(admin_client, campaign)

    response = api_client(EXECUTIONS_TRIGGER).post(path, body, format="json")

    assert path == "/api/v1/executions/audience"
    assert body == {
        "requestId": "<unique id for this call>",
        "campaignId": str(campaign.pk),
        "context": {"offer": {"code": "<offer.code>"}},
    }
    assert "each profile's stored attributes fill {{ profile.* }}" in help_text
    assert response.status_code == 202, response.content
    execution = Execution.objects.get(pk=response.json()["executionId"])
    assert (execution.kind, execution.audience_id, execution.context) == (
        "audience",
        audience.pk,
        {"offer": {"code": "<offer.code>"}},
    )
