"""Web Push needs the browser's subscription keys: taken from the profile, or refused at once."""

from __future__ import annotations

from audiences.models import IdentityNamespace
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.push_helpers import profile_with_registration
from tests.delivery.trigger_calls import UNITARY, unitary
from tests.factories import PushConfigurationFactory

ENDPOINT = "https://push.example/subscription-1"
KEYS = {"keys": {"p256dh": "BPublicKey", "auth": "AuthSecret"}}
PUSH_INFO = {"appID": "shop-web", "platform": "web", "token": ENDPOINT}


def _web_push_campaign(live_campaign):
    return live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(
            push_provider="webpush", push_app_id="shop-web", push_platform="web"
        ),
        identity_namespace=IdentityNamespace.objects.get(code="crm_id"),
        content={"en": {"title": "Hi", "body": "Your order shipped"}},
    )


def test_push_info_of_a_registered_endpoint_takes_its_subscription_keys(
    api_client, live_campaign, published
) -> None:
    campaign = _web_push_campaign(live_campaign)
    profile_with_registration("shop-web", "web", ENDPOINT, subscription=KEYS)
    recipient = {
        "type": "aep",
        "namespace": "crm_id",
        "userId": "C-1",
        "channelData": {"pushInfo": PUSH_INFO},
    }

    response = api_client(EXECUTIONS_TRIGGER).post(
        UNITARY, unitary(campaign, recipient), format="json"
    )

    assert response.status_code == 202, response.content
    assert Message.objects.get().push_info == {**PUSH_INFO, "subscription": KEYS}


def test_push_info_without_subscription_keys_is_refused_before_the_202(
    api_client, live_campaign, published
) -> None:
    campaign = _web_push_campaign(live_campaign)
    recipient = {"type": "external", "userId": "browser-1", "channelData": {"pushInfo": PUSH_INFO}}

    response = api_client(EXECUTIONS_TRIGGER).post(
        UNITARY, unitary(campaign, recipient), format="json"
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_address"
    assert [e["pointer"] for e in body["errors"]] == ["/recipients/0/channelData/pushInfo"]
    assert (Execution.objects.count(), published) == (0, [])
