"""The OpenAPI schema is valid, warning-free and lists every endpoint; docs load locally."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/campaigns": {"get", "post"},
    "/api/v1/campaigns/{campaign_id}": {"get", "put", "patch", "delete"},
    "/api/v1/campaigns/{campaign_id}/review": {"post"},
    "/api/v1/campaigns/{campaign_id}/activate": {"post"},
    "/api/v1/campaigns/{campaign_id}/submit": {"post"},
    "/api/v1/campaigns/{campaign_id}/stop": {"post"},
    "/api/v1/campaigns/{campaign_id}/archive": {"post"},
    "/api/v1/campaigns/{campaign_id}/duplicate": {"post"},
    "/api/v1/campaigns/{campaign_id}/draft-version": {"post"},
    "/api/v1/campaigns/{campaign_id}/publish": {"post"},
    "/api/v1/campaigns/{campaign_id}/discard-draft": {"post"},
    "/api/v1/campaigns/{campaign_id}/versions": {"get"},
    "/api/v1/campaigns/{campaign_id}/previews": {"post"},
    "/api/v1/channel-configurations": {"get"},
    "/api/v1/channel-configurations/{configuration_id}": {"get"},
    "/api/v1/health": {"get"},
}


def test_schema_validates_without_warnings_and_has_every_endpoint() -> None:
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schema = yaml.safe_load(out.getvalue())
    paths = {
        path: set(ops) & {"get", "post", "put", "patch", "delete"}
        for path, ops in schema["paths"].items()
    }
    for path, methods in ENDPOINTS.items():
        assert paths.get(path) == methods, path
    assert "security" not in schema  # each operation names its own
    assert "security" not in schema["paths"]["/api/v1/health"]["get"]  # no auth
    assert schema["paths"]["/api/v1/campaigns"]["get"]["security"] == [
        {"apiKey": []},
        {"cookieAuth": []},
    ]
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A Clarion API key.",
    }


def test_swagger_docs_load_their_assets_from_our_static_files() -> None:
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()


def test_put_requires_the_whole_campaign_document_and_post_only_a_name() -> None:
    out = StringIO()

    call_command("spectacular", stdout=out)

    schema = yaml.safe_load(out.getvalue())
    operations = schema["paths"]["/api/v1/campaigns/{campaign_id}"]
    put_ref = operations["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    post = schema["paths"]["/api/v1/campaigns"]["post"]
    post_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    components = schema["components"]["schemas"]
    replace = components[put_ref.rsplit("/", 1)[1]]
    assert sorted(replace["required"]) == sorted(
        [
            "name",
            "description",
            "tags",
            "accessLabels",
            "category",
            "channel",
            "channelConfiguration",
            "tracking",
            "throttle",
            "audience",
            "schedule",
            "defaultLocale",
            "localeAttribute",
            "content",
        ]
    )
    nested = {
        name: components[replace["properties"][name]["$ref"].rsplit("/", 1)[1]]
        for name in ("tracking", "throttle", "audience", "schedule")
    }
    assert {name: sorted(part["required"]) for name, part in nested.items()} == {
        "tracking": ["clicks", "opens"],
        "throttle": ["ratePerSecond"],
        "audience": ["audienceId", "createNewProfiles", "identityNamespace"],
        "schedule": ["endAt", "startAt"],
    }
    assert components[post_ref.rsplit("/", 1)[1]]["required"] == ["name"]


def test_the_preview_response_schema_documents_its_warnings() -> None:
    out = StringIO()
    call_command("spectacular", stdout=out)
    components = yaml.safe_load(out.getvalue())["components"]["schemas"]

    preview = components["CampaignPreview"]
    warning = components["CampaignPreviewWarning"]

    assert preview["required"] == ["locale", "parts", "warnings"]
    assert preview["properties"]["warnings"]["type"] == "array"
    assert preview["properties"]["warnings"]["items"] == {
        "$ref": "#/components/schemas/CampaignPreviewWarning"
    }
    assert sorted(warning["required"]) == ["code", "field", "message", "variable"]
    assert set(warning["properties"]) == {"code", "message", "field", "variable"}
