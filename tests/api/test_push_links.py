"""The API refuses push links that are not https: or an app scheme the configuration allows."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from campaigns.models import AuditEvent, Campaign, ChannelConfiguration
from tests.factories import PushConfigurationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaigns"


def _push_document(configuration: ChannelConfiguration, **links: str) -> dict[str, Any]:
    return {
        "name": "Back in stock",
        "channel": "push",
        "channelConfiguration": str(configuration.pk),
        "content": {"en": {"title": "Back", "body": "In stock", **links}},
    }


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://shop.example/p", "data:x,y"])
def test_the_api_refuses_to_save_a_push_link_that_is_not_allowed(
    writer: APIClient, link: str
) -> None:
    configuration = PushConfigurationFactory.create(push_app_schemes=["myapp"])

    response = writer.post(
        URL, _push_document(configuration, deepLink=link, imageUrl=link), format="json"
    )

    assert response.status_code == 422
    detail = "Use an https:// link or a link of an app scheme this channel allows: myapp:."
    assert response.json()["errors"] == [
        {"pointer": "/content/en/deepLink", "detail": detail},
        {"pointer": "/content/en/imageUrl", "detail": detail},
    ]
    assert Campaign.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_the_api_saves_https_and_allowed_app_scheme_links(writer: APIClient) -> None:
    configuration = PushConfigurationFactory.create(push_app_schemes=["myapp"])

    response = writer.post(
        URL,
        _push_document(
            configuration,
            deepLink="myapp://product/{{ context.id }}",
            imageUrl="https://cdn.example/{{ context.id }}.png",
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["content"]["en"]["deepLink"] == "myapp://product/{{ context.id }}"
    assert (
        response.json()["content"]["en"]["imageUrl"] == "https://cdn.example/{{ context.id }}.png"
    )
