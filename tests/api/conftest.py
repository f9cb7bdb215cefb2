"""Campaign API fixtures (keyed clients come from ``api_client`` in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from campaigns.snapshot import campaign_to_data
from core.scopes import SCOPES
from tests.conftest import ApiClientFactory

READ = "campaigns:read"
WRITE = "campaigns:write"


@pytest.fixture
def reader(api_client: ApiClientFactory) -> APIClient:
    return api_client(READ)


@pytest.fixture
def writer(api_client: ApiClientFactory) -> APIClient:
    return api_client(READ, WRITE)


@pytest.fixture
def all_scopes(api_client: ApiClientFactory) -> APIClient:
    return api_client(*SCOPES)


def iso(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def expected_campaign(campaign: Campaign) -> dict[str, Any]:
    """What the API must return for ``campaign``, built from the database row."""
    campaign.refresh_from_db()
    version = campaign.live_version
    return {
        "id": str(campaign.pk),
        "status": campaign.status,
        "liveVersion": {"id": str(version.pk), "number": version.number} if version else None,
        "hasDraftVersion": campaign.has_draft_version,
        **campaign_to_data(campaign),
        "createdAt": iso(campaign.created_at),
        "updatedAt": iso(campaign.updated_at),
    }


def problem(
    status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The problem+json body the API must answer with."""
    from core.api.problems import TITLES

    return {
        "type": f"urn:clarion:problem:{code}",
        "title": TITLES[status],
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }
