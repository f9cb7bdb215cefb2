"""Campaign resources: list, create, retrieve, replace, edit and delete."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from campaigns.models import AuditEvent, Campaign, CampaignContent, Status, Tag
from campaigns.services import lifecycle
from core.actors import Actor
from tests.api.conftest import READ, WRITE, expected_campaign, iso, problem
from tests.conftest import ApiClientFactory
from tests.factories import AccessLabelFactory, CampaignFactory, ChannelConfigurationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"


def _brief_document(configuration_id: str) -> dict[str, Any]:
    """The campaign document exactly as the product brief shows it."""
    return {
        "name": "Order confirmation",
        "description": "Sent when an order is paid",
        "tags": ["orders"],
        "accessLabels": [],
        "category": "transactional",
        "channel": "email",
        "channelConfiguration": configuration_id,
        "tracking": {"opens": True, "clicks": True},
        "throttle": {"ratePerSecond": None},
        "audience": {"identityNamespace": "email", "createNewProfiles": True, "audienceId": None},
        "schedule": {"startAt": None, "endAt": None},
        "defaultLocale": "en",
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


# --- create ----------------------------------------------------------------------


def test_create_takes_the_brief_document_and_returns_it_with_server_fields(
    writer: APIClient,
) -> None:
    configuration = ChannelConfigurationFactory.create()
    document = _brief_document(str(configuration.pk))

    response = writer.post(URL, document, format="json")

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get()
    assert response.json() == {
        "id": str(campaign.pk),
        "status": "draft",
        "liveVersion": None,
        "hasDraftVersion": False,
        **document,
        "localeAttribute": "",
        "createdAt": iso(campaign.created_at),
        "updatedAt": iso(campaign.updated_at),
    }
    assert [c.locale for c in campaign.contents.all()] == ["en", "fr"]
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["create"]
    assert AuditEvent.objects.get().api_key is not None


def test_create_with_only_a_name_uses_the_defaults(writer: APIClient) -> None:
    response = writer.post(URL, {"name": "Minimal"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("category", "channel", "tracking", "throttle")} == {
        "category": "transactional",
        "channel": "email",
        "tracking": {"opens": True, "clicks": True},
        "throttle": {"ratePerSecond": None},
    }
    assert body["audience"] == {
        "identityNamespace": "email",
        "createNewProfiles": False,
        "audienceId": None,
    }
    assert body["content"] == {}


def test_create_with_wrong_types_is_400_with_a_pointer_per_field(writer: APIClient) -> None:
    document = {
        "name": 42,
        "tracking": {"opens": "yes"},
        "throttle": {"ratePerSecond": "fast"},
        "content": {"en": {"subject": 5}},
        "channelConfiguration": "not-a-uuid",
    }

    response = writer.post(URL, document, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [
            {"pointer": "/name", "detail": "Not a valid string."},
            {"pointer": "/channelConfiguration", "detail": "Must be a valid UUID."},
            {"pointer": "/tracking/opens", "detail": "Must be a valid boolean."},
            {"pointer": "/throttle/ratePerSecond", "detail": "A valid integer is required."},
            {"pointer": "/content/en/subject", "detail": "Not a valid string."},
        ],
    )
    assert Campaign.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_create_with_unknown_fields_is_400_naming_them(writer: APIClient) -> None:
    response = writer.post(
        URL, {"name": "X", "defaultlocale": "fr", "tracking": {"open": True}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"pointer": "/defaultlocale", "detail": "Unknown field."},
    ]
    assert Campaign.objects.count() == 0


def test_create_with_bad_references_is_422_from_the_service(writer: APIClient) -> None:
    unknown = str(uuid.uuid4())
    document = {
        "name": "X",
        "channelConfiguration": unknown,
        "accessLabels": ["nope"],
        "content": {"en": {"body": "hi", "subject": "{{ profile.x "}},
    }

    response = writer.post(URL, document, format="json")

    assert response.status_code == 422
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert pointers == [
        "/channelConfiguration",
        "/accessLabels/0",
        "/content/en/subject",
        "/content/en/body",
    ]
    assert Campaign.objects.count() == 0


def test_create_needs_a_name(writer: APIClient) -> None:
    response = writer.post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"pointer": "/name", "detail": "This field is required."}]


def test_create_with_a_body_that_is_not_an_object_is_400(writer: APIClient) -> None:
    response = writer.post(URL, ["name"], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["pointer"] == ""
    assert Campaign.objects.count() == 0


# --- retrieve ------------------------------------------------------------------------


def test_retrieve_returns_the_exact_document(reader: APIClient) -> None:
    campaign = CampaignFactory.create(name="Welcome", description="Hello")
    campaign.tags.set([Tag.objects.create(name="onboarding")])

    response = reader.get(f"{URL}/{campaign.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(campaign.pk),
        "status": "draft",
        "liveVersion": None,
        "hasDraftVersion": False,
        "name": "Welcome",
        "description": "Hello",
        "tags": ["onboarding"],
        "accessLabels": [],
        "category": "transactional",
        "channel": "email",
        "channelConfiguration": str(campaign.channel_configuration_id),
        "tracking": {"opens": True, "clicks": True},
        "throttle": {"ratePerSecond": None},
        "audience": {"identityNamespace": "email", "createNewProfiles": False, "audienceId": None},
        "schedule": {"startAt": None, "endAt": None},
        "defaultLocale": "en",
        "localeAttribute": "",
        "content": {
            "en": {
                "subject": "Thanks {{ profile.person.name.firstName }}",
                "preheader": "",
                "html": '<p>{{ context.product.name }} <a href="https://shop.example/o">order</a></p>',
                "text": "{{ context.product.name }} https://shop.example/o",
            }
        },
        "createdAt": iso(campaign.created_at),
        "updatedAt": iso(campaign.updated_at),
    }


def test_retrieve_a_live_campaign_names_its_live_version(reader: APIClient) -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())
    assert campaign.live_version is not None

    response = reader.get(f"{URL}/{campaign.pk}")

    assert response.json()["status"] == "live"
    assert response.json()["liveVersion"] == {"id": str(campaign.live_version.pk), "number": 1}


@pytest.mark.parametrize("campaign_id", [str(uuid.UUID(int=7)), "not-a-uuid", "123"])
def test_retrieve_unknown_or_malformed_id_is_404(reader: APIClient, campaign_id: str) -> None:
    response = reader.get(f"{URL}/{campaign_id}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(404, "not_found", f"No campaign has the id “{campaign_id}”.")


def test_a_campaign_whose_label_the_key_lacks_is_404_not_403(
    api_client: ApiClientFactory,
) -> None:
    vip = AccessLabelFactory.create(name="vip")
    campaign = CampaignFactory.create()
    campaign.access_labels.set([vip])
    outsider = api_client("campaigns:read", "campaigns:write")
    insider = api_client("campaigns:read", labels=("vip",))

    hidden = outsider.get(f"{URL}/{campaign.pk}")
    stop = outsider.post(f"{URL}/{campaign.pk}/activate")
    seen = insider.get(f"{URL}/{campaign.pk}")

    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"
    assert stop.status_code == 404
    assert seen.status_code == 200
    assert seen.json()["accessLabels"] == ["vip"]
    assert Campaign.objects.get().status == Status.DRAFT


# --- list ------------------------------------------------------------------------------


def test_list_returns_visible_campaigns_newest_first_with_page_fields(
    api_client: ApiClientFactory,
) -> None:
    vip = AccessLabelFactory.create(name="vip")
    first = CampaignFactory.create(name="First")
    hidden = CampaignFactory.create(name="Hidden")
    hidden.access_labels.set([vip])
    last = CampaignFactory.create(name="Last")
    client = api_client("campaigns:read")

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "limit": 50,
        "offset": 0,
        "next": None,
        "previous": None,
        "results": [expected_campaign(last), expected_campaign(first)],
    }


def test_list_paginates_with_limit_and_offset(reader: APIClient) -> None:
    for n in range(5):
        CampaignFactory.create(name=f"C{n}")

    first = reader.get(URL, {"limit": 2})
    middle = reader.get(URL, {"limit": 2, "offset": 2})
    last = reader.get(URL, {"limit": 2, "offset": 4})

    assert [c["name"] for c in first.json()["results"]] == ["C4", "C3"]
    assert first.json()["next"] == "http://testserver/api/v1/campaigns?limit=2&offset=2"
    assert first.json()["previous"] is None
    assert [c["name"] for c in middle.json()["results"]] == ["C2", "C1"]
    assert middle.json()["previous"] == "http://testserver/api/v1/campaigns?limit=2"
    assert [c["name"] for c in last.json()["results"]] == ["C0"]
    assert last.json()["next"] is None
    assert last.json()["count"] == 5


def test_list_filters_by_status_channel_category_tag_and_search(reader: APIClient) -> None:
    orders = Tag.objects.create(name="orders")
    email = CampaignFactory.create(name="Order paid")
    email.tags.set([orders])
    CampaignFactory.create(name="Spring sale", category="marketing")
    live = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(name="Order shipped"), actor=Actor.system()
    )

    def names(**query: str) -> list[str]:
        response = reader.get(URL, query)
        assert response.status_code == 200, response.json()
        return [c["name"] for c in response.json()["results"]]

    assert names(status="live") == [live.name]
    assert names(status="draft") == ["Spring sale", "Order paid"]
    assert names(category="marketing") == ["Spring sale"]
    assert names(channel="sms") == []
    assert names(channel="email", tag="orders") == ["Order paid"]
    assert names(search="ORDER") == ["Order shipped", "Order paid"]


def test_list_with_bad_query_parameters_is_400(reader: APIClient) -> None:
    response = reader.get(URL, {"status": "sleeping", "limit": "many", "offset": "-1"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"pointer": "/query/limit", "detail": "A valid integer is required."},
        {"pointer": "/query/offset", "detail": "Ensure this value is greater than or equal to 0."},
        {"pointer": "/query/status", "detail": '"sleeping" is not a valid choice.'},
    ]


def test_list_query_count_does_not_grow_with_the_page(reader: APIClient) -> None:
    for _ in range(3):
        CampaignFactory.create()
    reader.get(URL)  # the key's first use caches it and records last_used_at once
    with CaptureQueriesContext(connection) as three:
        reader.get(URL)
    for _ in range(5):
        CampaignFactory.create()

    with CaptureQueriesContext(connection) as eight:
        response = reader.get(URL)

    assert response.json()["count"] == 8
    # count, page (visibility is part of both), then tags, access labels and contents
    assert len(three) == len(eight) == 5


# --- update --------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(writer: APIClient) -> None:
    campaign = CampaignFactory.create(name="Before")
    before = expected_campaign(campaign)

    response = writer.patch(
        f"{URL}/{campaign.pk}",
        {"name": "After", "tracking": {"clicks": False}, "throttle": {"ratePerSecond": 10}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    after = expected_campaign(campaign)
    assert response.json() == after
    assert after == {
        **before,
        "name": "After",
        "tracking": {"opens": True, "clicks": False},
        "throttle": {"ratePerSecond": 10},
        "updatedAt": after["updatedAt"],
    }
    assert AuditEvent.objects.get().detail == {"changed": ["name", "throttle", "tracking"]}


def test_put_replaces_the_whole_document(writer: APIClient) -> None:
    # given a draft with a description and a throttle
    campaign = CampaignFactory.create(description="old", throttle_rate=20)
    document = _brief_document(str(campaign.channel_configuration_id))
    document.update(
        name="Replaced",
        description="",
        throttle={"ratePerSecond": None},
        localeAttribute="",
        defaultLocale="de",
        content={"de": {"subject": "Danke", "text": "Danke"}},
    )

    # when the whole document is sent
    response = writer.put(f"{URL}/{campaign.pk}", document, format="json")

    # then the campaign is exactly that document
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body == expected_campaign(campaign)
    assert (body["name"], body["description"], body["throttle"]) == (
        "Replaced",
        "",
        {"ratePerSecond": None},
    )
    assert body["content"] == {
        "de": {"subject": "Danke", "preheader": "", "html": "", "text": "Danke"}
    }
    assert list(CampaignContent.objects.values_list("locale", flat=True)) == ["de"]


def test_put_without_access_labels_is_400_and_keeps_the_restriction(
    api_client: ApiClientFactory,
) -> None:
    # given a campaign restricted to the "vip" label, and a key holding it
    vip = AccessLabelFactory.create(name="vip")
    campaign = CampaignFactory.create(name="Restricted")
    campaign.access_labels.set([vip])
    writer = api_client(READ, WRITE, labels=("vip",))
    document = writer.get(f"{URL}/{campaign.pk}").json()
    before = expected_campaign(campaign)

    # when the document is sent back without accessLabels (and renamed)
    del document["accessLabels"]
    document["name"] = "Opened up"
    response = writer.put(f"{URL}/{campaign.pk}", document, format="json")

    # then it is refused with a pointer to the missing field, and nothing changed
    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "This field is required.",
        [{"pointer": "/accessLabels", "detail": "This field is required."}],
    )
    assert expected_campaign(campaign) == before
    assert list(campaign.access_labels.values_list("name", flat=True)) == ["vip"]
    assert AuditEvent.objects.count() == 0


def test_put_names_every_missing_field_nested_ones_too(writer: APIClient) -> None:
    # given a draft
    campaign = CampaignFactory.create(name="Before", throttle_rate=20)
    before = expected_campaign(campaign)

    # when a partial document is PUT (PATCH is for that)
    response = writer.put(
        f"{URL}/{campaign.pk}",
        {"name": "After", "tracking": {"opens": False}, "throttle": {}},
        format="json",
    )

    # then every missing field is named, and nothing was written
    assert response.status_code == 400
    missing = "This field is required."
    assert response.json()["errors"] == [
        {"pointer": "/description", "detail": missing},
        {"pointer": "/tags", "detail": missing},
        {"pointer": "/accessLabels", "detail": missing},
        {"pointer": "/category", "detail": missing},
        {"pointer": "/channel", "detail": missing},
        {"pointer": "/channelConfiguration", "detail": missing},
        {"pointer": "/tracking/clicks", "detail": missing},
        {"pointer": "/throttle/ratePerSecond", "detail": missing},
        {"pointer": "/audience", "detail": missing},
        {"pointer": "/schedule", "detail": missing},
        {"pointer": "/defaultLocale", "detail": missing},
        {"pointer": "/localeAttribute", "detail": missing},
        {"pointer": "/content", "detail": missing},
    ]
    assert expected_campaign(campaign) == before
    assert AuditEvent.objects.count() == 0


def test_post_still_takes_defaults_for_omitted_fields(writer: APIClient) -> None:
    response = writer.post(URL, {"name": "Only a name"}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["accessLabels"] == []
    assert response.json()["tracking"] == {"opens": True, "clicks": True}


def test_put_accepts_a_document_read_back_from_get(writer: APIClient) -> None:
    campaign = CampaignFactory.create()
    document = writer.get(f"{URL}/{campaign.pk}").json()
    document["name"] = "Round trip"

    response = writer.put(f"{URL}/{campaign.pk}", document, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Round trip"


def test_patch_a_live_campaign_without_a_draft_version_is_409(writer: APIClient) -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())
    events = AuditEvent.objects.count()

    response = writer.patch(f"{URL}/{campaign.pk}", {"name": "Sneaky"}, format="json")

    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "draft_version_required",
        "This campaign is Live: create a draft version to edit it.",
    )
    campaign.refresh_from_db()
    assert campaign.name != "Sneaky"
    assert AuditEvent.objects.count() == events


def test_patch_with_a_wrong_type_deep_in_content_is_400(writer: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = writer.patch(
        f"{URL}/{campaign.pk}", {"content": {"en": {"subject": ["a"]}}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"pointer": "/content/en/subject", "detail": "Not a valid string."}
    ]
    assert campaign.contents.get().subject == "Thanks {{ profile.person.name.firstName }}"


# --- delete --------------------------------------------------------------------------


def test_delete_a_draft_is_204(writer: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = writer.delete(f"{URL}/{campaign.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert Campaign.objects.count() == 0
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["delete"]


def test_delete_a_live_campaign_is_409_and_keeps_it(writer: APIClient) -> None:
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())

    response = writer.delete(f"{URL}/{campaign.pk}")

    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "not_deletable",
        "Only drafts can be deleted; archive a Live campaign instead.",
    )
    assert Campaign.objects.filter(pk=campaign.pk, status=Status.LIVE).exists()
