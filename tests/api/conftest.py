"""API fixtures: clients holding a bearer API key with chosen scopes and labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from campaigns.snapshot import campaign_to_data
from core.apikeys import api_key_create
from core.scopes import SCOPES

ClientFactory = Callable[..., APIClient]
READ = "campaigns:read"
WRITE = "campaigns:write"


@pytest.fixture
def client_with_key(db: None) -> ClientFactory:
    """``client_with_key("campaigns:read", labels=["vip"])``: a client sending that key."""

    def make(*scopes: str, labels: tuple[str, ...] = (), name: str = "test key") -> APIClient:
        _key, secret = api_key_create(name=name, scopes=scopes, access_labels=labels)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def reader(client_with_key: ClientFactory) -> APIClient:
    return client_with_key(READ)


@pytest.fixture
def writer(client_with_key: ClientFactory) -> APIClient:
    return client_with_key(READ, WRITE)


@pytest.fixture
def all_scopes(client_with_key: ClientFactory) -> APIClient:
    return client_with_key(*SCOPES)


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
