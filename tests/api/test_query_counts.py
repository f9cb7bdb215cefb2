"""What an authenticated API request costs in queries: the key is one look-up, and the
access-label check is folded into the resource's own query (no query of its own)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.apikeys import api_key_create
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _client(*scopes: str, labels: tuple[str, ...] = ()) -> APIClient:
    _key, secret = api_key_create(name="counted", scopes=scopes, access_labels=labels)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # last_used_at is written at most once a minute: this first call writes it, so the
    # counted calls show the steady state.
    client.get("/api/v1/channel-configurations")
    return client


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # key, count, page, tags, labels, contents: whatever the number of campaigns
        ("/api/v1/campaigns", 6),
        # key, the campaign (visibility in the same query), tags, labels, contents
        ("/api/v1/campaigns/{campaign}", 5),
        # key, count, page
        ("/api/v1/channel-configurations", 3),
    ],
)
def test_an_authenticated_campaign_read_costs_a_fixed_number_of_queries(
    django_assert_num_queries: Any, path: str, queries: int
) -> None:
    AccessLabelFactory.create(name="eu")
    Group.objects.create(name="unrelated")
    campaigns = [CampaignFactory.create() for _ in range(3)]
    campaigns[1].access_labels.add(AccessLabelFactory.create(name="vip"))  # hidden from the key
    client = _client("campaigns:read", labels=("eu",))

    with django_assert_num_queries(queries):
        response = client.get(path.format(campaign=campaigns[0].pk))

    assert response.status_code == 200
    if path == "/api/v1/campaigns":
        assert response.json()["count"] == 2


def test_a_hidden_campaign_is_a_404_in_the_same_number_of_queries(
    django_assert_num_queries: Any,
) -> None:
    campaign = CampaignFactory.create()
    campaign.access_labels.add(AccessLabelFactory.create(name="vip"))
    client = _client("campaigns:read")

    with django_assert_num_queries(2):  # the key, the campaign
        response = client.get(f"/api/v1/campaigns/{campaign.pk}")

    assert response.status_code == 404
