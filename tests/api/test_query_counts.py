"""What an authenticated API request costs in queries: the key comes from a cache (no
query once known), and the access-label check is folded into the resource's own query
or read from the cached version's labels (no query of its own)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from rest_framework.test import APIClient

from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from core.apikeys import api_key_create
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _client(*scopes: str, labels: tuple[str, ...] = ()) -> APIClient:
    _key, secret = api_key_create(name="counted", scopes=scopes, access_labels=labels)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # This first call reads the key into the cache and writes its last_used_at (at
    # most once a minute), so the counted calls show the steady state.
    client.get("/api/v1/channel-configurations")
    return client


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # count, page, tags, labels, contents: whatever the number of campaigns
        ("/api/v1/campaigns", 5),
        # the campaign (visibility in the same query), tags, labels, contents
        ("/api/v1/campaigns/{campaign}", 4),
        # count, page
        ("/api/v1/channel-configurations", 2),
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

    with django_assert_num_queries(1):  # the campaign
        response = client.get(f"/api/v1/campaigns/{campaign.pk}")

    assert response.status_code == 404


@pytest.mark.parametrize("recipients", [1, 100])
def test_reading_a_unitary_execution_costs_a_fixed_number_of_queries(
    django_assert_num_queries: Any, recipients: int
) -> None:
    # given a queued execution of a campaign with an access label the key holds
    campaign = CampaignFactory.create(create_new_profiles=True)
    campaign.access_labels.add(AccessLabelFactory.create(name="eu"))
    campaign = campaign_activate(campaign=campaign, actor=Actor())
    trigger = _client("executions:trigger", "executions:read", labels=("eu",))
    body = {
        "requestId": "r-1",
        "campaignId": str(campaign.pk),
        "recipients": [
            {"type": "external", "userId": f"u{n}@example.com", "namespace": "email"}
            for n in range(recipients)
        ],
    }
    with override_settings(CLARION_ENQUEUE_IN_BACKGROUND=False):
        accepted = trigger.post("/api/v1/executions/unitary", body, format="json")
    assert accepted.status_code == 202
    trigger.get(accepted["Location"])  # the version's labels are read once, then cached

    # the execution, its counts by status, its messages
    with django_assert_num_queries(3):
        response = trigger.get(accepted["Location"])

    assert response.status_code == 200
    assert len(response.json()["recipients"]) == recipients
