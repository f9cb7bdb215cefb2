"""The API accepts what its OpenAPI document allows, and refuses what it does not.

Each test pins one class of disagreement schemathesis found between the
document and the server (tests/api/test_schemathesis.py runs it for real).
"""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audiences.models import Profile
from campaigns.models import Campaign
from core.scopes import SCOPES
from tests.api.conftest import problem
from tests.conftest import ApiClientFactory
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found: dict[str, Any] = schema["components"]["schemas"]
    return found


# --- closed objects ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "CampaignInputRequest",
        "PatchedCampaignInputRequest",
        "TrackingRequest",
        "ThrottleRequest",
        "AudienceRequest",
        "ScheduleRequest",
        "CampaignDuplicateInputRequest",
        "CampaignPreviewInputRequest",
        "ProfileUpsertInputRequest",
        "ProfileIdentityInputRequest",
        "ProfileBatchInputRequest",
        "ProfileBatchItemRequest",
    ],
)
def test_inputs_that_refuse_unknown_fields_are_closed_objects(
    components: dict[str, Any], name: str
) -> None:
    assert components[name]["additionalProperties"] is False


def test_server_fields_a_campaign_document_may_carry_back_are_declared_as_ignored(
    components: dict[str, Any],
) -> None:
    properties = components["CampaignInputRequest"]["properties"]

    ignored = {"description": "Set by the server; ignored when sent."}
    for name in ("id", "status", "liveVersion", "hasDraftVersion", "createdAt", "updatedAt"):
        assert properties[name] == ignored, name


def test_free_form_objects_stay_open(components: dict[str, Any]) -> None:
    preview = components["CampaignPreviewInputRequest"]["properties"]
    upsert = components["ProfileUpsertInputRequest"]["properties"]

    assert preview["profile"]["additionalProperties"] == {}
    assert preview["context"]["additionalProperties"] == {}
    assert upsert["attributes"]["additionalProperties"] == {}


# --- strings are taken as sent -----------------------------------------------------------


def test_a_name_is_stored_as_sent_with_its_spaces(writer: APIClient) -> None:
    # The schema's minLength/maxLength count the string sent; DRF used to trim first.
    response = writer.post(URL, {"name": "  Spring sale  "}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "  Spring sale  "
    assert Campaign.objects.get().name == "  Spring sale  "


def test_a_search_of_only_a_no_break_space_is_a_search_not_a_blank_error(
    reader: APIClient,
) -> None:
    CampaignFactory.create(name="Spring\u00a0sale")
    CampaignFactory.create(name="Autumn")

    response = reader.get(URL, {"search": "\u00a0"})

    assert response.status_code == 200, response.json()
    assert [c["name"] for c in response.json()["results"]] == ["Spring\u00a0sale"]


# --- query parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/campaigns", "status"),
        ("/api/v1/campaigns", "tag"),
        ("/api/v1/campaigns", "limit"),
        ("/api/v1/channel-configurations", "channel"),
        ("/api/v1/audiences", "kind"),
    ],
)
def test_a_repeated_query_parameter_is_400_at_its_pointer(
    api_client: ApiClientFactory, url: str, name: str
) -> None:
    # DRF used to take the last value silently; the document declares one.
    client = api_client(*SCOPES)

    response = client.get(f"{url}?{name}=a&{name}=b")

    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Give this parameter once.",
        [{"pointer": f"/query/{name}", "detail": "Give this parameter once."}],
    )


@pytest.mark.parametrize(
    ("url", "name", "detail"),
    [
        ("/api/v1/campaigns", "status", '"" is not a valid choice.'),
        ("/api/v1/campaigns", "tag", "This field may not be blank."),
        ("/api/v1/campaigns", "search", "This field may not be blank."),
        ("/api/v1/campaigns", "offset", "A valid integer is required."),
        ("/api/v1/channel-configurations", "channel", '"" is not a valid choice.'),
        ("/api/v1/audiences", "search", "This field may not be blank."),
    ],
)
def test_an_empty_query_parameter_is_400_not_omitted(
    api_client: ApiClientFactory, url: str, name: str, detail: str
) -> None:
    # The document gives these a minimum length or an enum; "" meets neither.
    client = api_client(*SCOPES)

    response = client.get(f"{url}?{name}=")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"pointer": f"/query/{name}", "detail": detail}]


def test_an_undeclared_query_parameter_is_ignored(reader: APIClient) -> None:
    CampaignFactory.create(name="Kept")

    response = reader.get(f"{URL}?colour=red&colour=blue")

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Kept"]


def test_valid_filters_once_each_still_filter(reader: APIClient) -> None:
    CampaignFactory.create(name="Spring sale")
    CampaignFactory.create(name="Autumn")

    response = reader.get(f"{URL}?search=spring&limit=1&offset=0")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [c["name"] for c in response.json()["results"]] == ["Spring sale"]


# --- constraints the server enforces are declared, and enforced with 400 ------------------


def _string(spec: dict[str, Any]) -> dict[str, Any]:
    """The string schema of a field; blank-allowed ones are oneOf [it, maxLength 0]."""
    found: dict[str, Any] = spec["oneOf"][0] if "oneOf" in spec else spec
    return found


def test_campaign_limits_are_declared_in_the_schema(components: dict[str, Any]) -> None:
    campaign = components["CampaignInputRequest"]["properties"]
    throttle = components["ThrottleRequest"]["properties"]["ratePerSecond"]
    parts = components["ContentPartsRequest"]

    assert (throttle["minimum"], throttle["maximum"]) == (1, 2000)
    assert campaign["tags"]["items"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
    assert campaign["tags"]["items"]["maxLength"] == 64
    assert campaign["accessLabels"]["items"]["maxLength"] == 64
    assert campaign["defaultLocale"]["maxLength"] == 20
    assert _string(campaign["localeAttribute"])["maxLength"] == 200
    assert campaign["content"]["maxProperties"] == 50
    assert campaign["content"]["additionalProperties"] == {
        "$ref": "#/components/schemas/ContentPartsRequest"
    }
    assert parts["additionalProperties"] is False
    assert {n: _string(spec).get("maxLength") for n, spec in parts["properties"].items()} == {
        "subject": 998,
        "preheader": 500,
        "html": None,
        "text": None,
        "body": None,
        "title": 500,
        "deepLink": 2000,
        "imageUrl": 2000,
    }


@pytest.mark.parametrize(
    ("document", "pointer", "detail"),
    [
        (
            {"throttle": {"ratePerSecond": 2001}},
            "/throttle/ratePerSecond",
            "Ensure this value is less than or equal to 2000.",
        ),
        (
            {"throttle": {"ratePerSecond": 0}},
            "/throttle/ratePerSecond",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"tags": ["vip\n"]},
            "/tags/0",
            "Use letters, digits and _ . : - (at most 64 characters).",
        ),
        (
            {"content": {"en": {"subject": "x" * 999}}},
            "/content/en/subject",
            "Ensure this field has no more than 998 characters.",
        ),
        ({"content": {"en": {"footer": "x"}}}, "/content/en/footer", "Unknown field."),
        (
            {"content": {f"l{i:03d}": {} for i in range(51)}},
            "/content",
            "At most 50 locales per campaign; this has 51.",
        ),
        (
            {"defaultLocale": "x" * 21},
            "/defaultLocale",
            "Ensure this field has no more than 20 characters.",
        ),
    ],
    ids=[
        "rate-high",
        "rate-low",
        "tag-newline",
        "subject-long",
        "part-unknown",
        "locales",
        "locale",
    ],
)
def test_a_campaign_outside_the_declared_limits_is_400(
    writer: APIClient, document: dict[str, Any], pointer: str, detail: str
) -> None:
    # These were the service's (now 422); the serializer checks what the schema declares.
    response = writer.post(URL, {"name": "Limits", **document}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"pointer": pointer, "detail": detail}]
    assert Campaign.objects.count() == 0


def test_a_part_the_channel_does_not_have_is_declared_so_it_is_a_422(writer: APIClient) -> None:
    # "body" is a content part (SMS, push) but not an email one: a value problem.
    response = writer.post(
        URL, {"name": "Email", "channel": "email", "content": {"en": {"body": "hi"}}}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "pointer": "/content/en/body",
            "detail": "“body” is not part of email content (parts: subject, preheader, html, text).",
        }
    ]
    assert Campaign.objects.count() == 0


def test_consent_is_a_closed_object_of_the_three_channels(
    components: dict[str, Any], api_client: ApiClientFactory
) -> None:
    client = api_client("profiles:write")

    response = client.put(
        "/api/v1/profiles/email/ana@example.com", {"consent": {"fax": "opted_in"}}, format="json"
    )

    consent = components["ProfileConsentInputRequest"]
    assert consent["additionalProperties"] is False
    assert set(consent["properties"]) == {"email", "sms", "push"}
    assert response.status_code == 400
    assert response.json()["errors"] == [{"pointer": "/consent/fax", "detail": "Unknown field."}]
    assert Profile.objects.count() == 0


# --- NUL characters ----------------------------------------------------------------------


def test_request_strings_declare_that_they_hold_no_nul(components: dict[str, Any]) -> None:
    # DRF refuses NUL in every CharField (PostgreSQL cannot store it); say so.
    no_nul = "^[^\\u0000]+$"
    campaign = components["CampaignInputRequest"]["properties"]
    identity = components["ProfileIdentityInputRequest"]["properties"]
    output = components["Campaign"]["properties"]

    assert campaign["name"]["pattern"] == no_nul
    # A blank-allowed string: the pattern, or the empty string (exactly one matches).
    assert campaign["description"]["oneOf"] == [
        {"type": "string", "default": "", "pattern": no_nul},
        {"type": "string", "maxLength": 0},
    ]
    assert campaign["accessLabels"]["items"]["pattern"] == no_nul
    assert identity["value"]["pattern"] == no_nul
    assert "pattern" not in output["name"]  # responses are not constrained


def test_a_nul_in_a_batch_identity_is_400_at_its_pointer(api_client: ApiClientFactory) -> None:
    client = api_client("profiles:write")
    item = {
        "namespace": "email",
        "value": "ana@example.com",
        "identities": [{"namespace": "crm_id", "value": "C\u00001"}],
    }

    response = client.post("/api/v1/profiles:batch", {"profiles": [item]}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"pointer": "/profiles/0/identities/0/value", "detail": "Null characters are not allowed."}
    ]
    assert Profile.objects.count() == 0
