"""Creating and editing campaigns from a campaign document."""

from __future__ import annotations

from typing import Any

import pytest

from audiences.models import Audience
from campaigns.models import AuditEvent, Campaign, CampaignContent
from campaigns.preview import campaign_curl_sample, campaign_preview
from campaigns.rendering import RenderedMessage
from campaigns.services.authoring import campaign_create, campaign_update
from campaigns.snapshot import campaign_to_data
from core.actors import Actor
from core.errors import InvalidInput
from tests.factories import CampaignFactory, ChannelConfigurationFactory

pytestmark = pytest.mark.django_db


def _document(**overrides: Any) -> dict[str, Any]:
    configuration = ChannelConfigurationFactory.create()
    data: dict[str, Any] = {
        "name": "Order confirmation",
        "description": "Sent when an order is paid",
        "tags": ["orders"],
        "accessLabels": [],
        "category": "transactional",
        "channel": "email",
        "channelConfiguration": str(configuration.pk),
        "tracking": {"opens": True, "clicks": False},
        "throttle": {"ratePerSecond": 50},
        "audience": {"identityNamespace": "email", "createNewProfiles": True, "audienceId": None},
        "schedule": {"startAt": None, "endAt": None},
        "defaultLocale": "en",
        "localeAttribute": "",
        "content": {
            "en": {
                "subject": "Thanks {{ profile.person.name.firstName }}",
                "preheader": "",
                "html": "<p>{{ context.product.name }}</p>",
                "text": "{{ context.product.name }}",
            },
            "fr": {"subject": "Merci", "preheader": "", "html": "<p>Merci</p>", "text": "Merci"},
        },
    }
    data.update(overrides)
    return data


def test_create_round_trips_the_document() -> None:
    data = _document()

    campaign = campaign_create(data=data, actor=Actor.system())

    assert campaign_to_data(campaign) == data
    assert campaign.status == "draft"
    assert AuditEvent.objects.get(campaign=campaign).action == "create"


def test_every_bad_field_is_reported_with_its_pointer_and_nothing_is_written() -> None:
    data = _document(
        channelConfiguration="9b2f0a56-0000-4000-8000-000000000000",
        throttle={"ratePerSecond": 2001},
        audience={"identityNamespace": "fax", "createNewProfiles": True},
        category="marketing",
        content={"pt_br": {"subject": "{% if %}", "body": "x"}, "english!": {"subject": "x"}},
    )

    with pytest.raises(InvalidInput) as caught:
        campaign_create(data=data, actor=Actor.system())

    found = {(e.pointer, e.detail) for e in caught.value.errors}
    assert found == {
        ("/audience/identityNamespace", "Unknown identity namespace “fax”."),
        (
            "/channelConfiguration",
            "No channel configuration has the id “9b2f0a56-0000-4000-8000-000000000000”.",
        ),
        ("/content/pt_br/subject", "Template error: missing expression (line 1, column 4)"),
        (
            "/content/pt_br/body",
            "“body” is not part of email content (parts: subject, preheader, html, text).",
        ),
        ("/content/english!", "“english!” is not a locale such as en, fr-CA or zh-Hant-TW."),
        (
            "/audience/createNewProfiles",
            "Only transactional campaigns can create profiles for unknown recipients.",
        ),
        ("/throttle/ratePerSecond", "Ensure this value is less than or equal to 2000."),
    }
    assert caught.value.message == "Some fields are not valid."
    assert Campaign.objects.count() == 0
    assert CampaignContent.objects.count() == 0


def test_more_than_50_locales_is_refused() -> None:
    content = {f"l{chr(97 + i // 26)}{chr(97 + i % 26)}": {"subject": "x"} for i in range(51)}

    with pytest.raises(InvalidInput) as caught:
        campaign_create(data=_document(content=content), actor=Actor.system())

    assert caught.value.errors[0].pointer == "/content"


def test_partial_update_changes_only_given_fields_and_audits_them() -> None:
    campaign = campaign_create(data=_document(), actor=Actor.system())

    campaign_update(
        campaign=campaign,
        data={"tracking": {"clicks": True}, "content": {"en": {"subject": "New"}}},
        actor=Actor.system(),
    )

    campaign.refresh_from_db()
    assert (campaign.track_opens, campaign.track_clicks) == (True, True)
    assert list(campaign.contents.values_list("locale", "subject")) == [("en", "New")]
    assert AuditEvent.objects.filter(action="edit").get().detail == {
        "changed": ["content", "tracking"]
    }


def test_preview_renders_the_fallback_locale_with_profile_and_context() -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {
                "subject": "Hi {{ profile.name }}",
                "html": "<p>{{ context.x }}</p>",
                "text": "",
            },
            "pt": {
                "subject": "Olá {{ profile.name }}",
                "html": "<p>{{ context.x }}</p>",
                "text": "",
            },
        }
    )

    result = campaign_preview(
        campaign=campaign, locale="pt-BR", profile={"name": "Ana"}, context={"x": 1}
    )

    assert result == RenderedMessage(
        "email",
        "pt",
        {"subject": "Olá Ana", "preheader": "", "html": "<p>1</p>", "text": ""},
        (),
    )


def test_preview_reports_render_errors_with_pointer() -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "{{ context.n | divided_by: 0 }}", "html": "x", "text": ""}}
    )

    with pytest.raises(InvalidInput) as caught:
        campaign_preview(campaign=campaign, locale="en", profile={}, context={"n": 4})

    assert caught.value.errors[0].pointer == "/content/en/subject"


def test_curl_sample_is_a_valid_request_with_every_variable() -> None:
    campaign = CampaignFactory.create()

    curl = campaign_curl_sample(campaign, base_url="http://localhost:8000/")

    assert curl.startswith("curl -X POST http://localhost:8000/api/v1/executions/unitary")
    assert '"firstName": "<person.name.firstName>"' in curl
    assert '"name": "<product.name>"' in curl
    assert "Authorization: Bearer" in curl


def test_audience_is_chosen_by_id_and_an_unknown_id_is_refused() -> None:
    audience = Audience.objects.create(
        name="Gold members",
        kind="rules",
        rules={
            "combinator": "and",
            "conditions": [{"field": "attributes.tier", "operator": "equals", "value": "gold"}],
        },
    )
    data = _document(
        category="marketing",
        audience={
            "identityNamespace": "email",
            "createNewProfiles": False,
            "audienceId": str(audience.pk),
        },
    )

    campaign = campaign_create(data=data, actor=Actor.system())

    assert campaign.audience == audience
    assert campaign_to_data(campaign)["audience"]["audienceId"] == str(audience.pk)
    with pytest.raises(InvalidInput) as caught:
        campaign_update(
            campaign=campaign,
            data={"audience": {"audienceId": "9b2f0a56-0000-4000-8000-000000000000"}},
            actor=Actor.system(),
        )
    assert [e.pointer for e in caught.value.errors] == ["/audience/audienceId"]
    campaign.refresh_from_db()
    assert campaign.audience == audience
