"""Channel configurations, read-only through the API."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import problem
from tests.factories import (
    ChannelConfigurationFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/channel-configurations"


def test_list_returns_active_configurations_by_channel_then_name(reader: APIClient) -> None:
    email = ChannelConfigurationFactory.create(name="Shop", tracking_domain="t.shop.example")
    sms = SmsConfigurationFactory.create(name="Texts")
    push = PushConfigurationFactory.create(name="App")
    ChannelConfigurationFactory.create(name="Retired", is_active=False)

    response = reader.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "limit": 50,
        "offset": 0,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(email.pk),
                "name": "Shop",
                "channel": "email",
                "isActive": True,
                "settings": {
                    "fromName": "Clarion Shop",
                    "fromEmail": "shop@example.com",
                    "replyTo": "help@example.com",
                    "trackingDomain": "t.shop.example",
                },
            },
            {
                "id": str(push.pk),
                "name": "App",
                "channel": "push",
                "isActive": True,
                "settings": {
                    "appId": "com.example.shop",
                    "platform": "android",
                    "provider": "outbox",
                    "appSchemes": [],
                },
            },
            {
                "id": str(sms.pk),
                "name": "Texts",
                "channel": "sms",
                "isActive": True,
                "settings": {"sender": "Clarion", "provider": "outbox"},
            },
        ],
    }


def test_list_filters_by_channel(reader: APIClient) -> None:
    ChannelConfigurationFactory.create(name="Shop")
    sms = SmsConfigurationFactory.create(name="Texts")

    response = reader.get(URL, {"channel": "sms"})

    assert [c["id"] for c in response.json()["results"]] == [str(sms.pk)]


def test_list_with_an_unknown_channel_is_400(reader: APIClient) -> None:
    response = reader.get(URL, {"channel": "fax"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"pointer": "/query/channel", "detail": '"fax" is not a valid choice.'}
    ]


def test_retrieve_returns_one_configuration(reader: APIClient) -> None:
    sms = SmsConfigurationFactory.create(name="Texts", is_active=False)

    response = reader.get(f"{URL}/{sms.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(sms.pk),
        "name": "Texts",
        "channel": "sms",
        "isActive": False,
        "settings": {"sender": "Clarion", "provider": "outbox"},
    }


@pytest.mark.parametrize("configuration_id", [str(uuid.UUID(int=1)), "nope"])
def test_retrieve_unknown_is_404(reader: APIClient, configuration_id: str) -> None:
    response = reader.get(f"{URL}/{configuration_id}")

    assert response.status_code == 404
    assert response.json() == problem(
        404, "not_found", f"No channel configuration has the id “{configuration_id}”."
    )
