"""The API accepts what its OpenAPI document allows, and refuses what it does not.

Each test pins one class of disagreement schemathesis found between the
document and the server (tests/api/test_schemathesis.py runs it for real).
"""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from campaigns.models import Campaign
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
