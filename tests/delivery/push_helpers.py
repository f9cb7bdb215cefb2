"""Shared by the push channel tests: an outgoing push, sending it, and a call to a profile."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import responses

from audiences.models import Identity, IdentityNamespace, Profile, PushRegistration
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.base import Outgoing, SendResult
from delivery.channels.registry import transport_for
from delivery.models import Message

PARTS = {
    "title": "Your jacket shipped",
    "body": "It arrives on Tuesday",
    "deepLink": "shop://orders/42",
    "imageUrl": "https://shop.example/jacket.png",
}
FCM_SETTINGS = {"appId": "com.example.shop", "platform": "android", "provider": "fcm"}
WEB_SETTINGS = {"appId": "shop-web", "platform": "web", "provider": "webpush"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def push_outgoing(address: str, channel_settings: dict[str, str], **push_info: Any) -> Outgoing:
    return Outgoing(
        message_id=uuid.uuid4(),
        channel="push",
        address=address,
        parts=PARTS,
        channel_settings=channel_settings,
        push_info={
            "appID": channel_settings["appId"],
            "platform": channel_settings["platform"],
            "token": address,
            **push_info,
        },
    )


def send(message: Outgoing) -> SendResult:
    [result] = transport_for("push", message.channel_settings).send_many([message])
    return result


def calls_to(mock: responses.RequestsMock, url: str) -> list[Any]:
    return [call for call in mock.calls if call.request.url == url]


def push_call(api_client, live_campaign, django_capture_on_commit_callbacks, configuration):
    """A profile with a push registration, and an accepted call to it: its message."""
    campaign = live_campaign(
        channel="push",
        channel_configuration=configuration,
        identity_namespace=IdentityNamespace.objects.get(code="crm_id"),
        content={
            "en": {
                "title": "Hi {{ profile.name }}",
                "body": PARTS["body"],
                "deep_link": PARTS["deepLink"],
                "image_url": PARTS["imageUrl"],
            }
        },
    )
    body = {
        "requestId": "push-1",
        "campaignId": str(campaign.pk),
        "recipients": [{"type": "aep", "namespace": "crm_id", "userId": "C-1"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(
            "/api/v1/executions/unitary", body, format="json"
        )
    assert response.status_code == 202, response.content
    return Message.objects.get()


def profile_with_registration(app_id: str, platform: str, token: str, **fields: Any) -> Profile:
    profile = Profile.objects.create(attributes={"name": "Ana"})
    Identity.objects.create(
        profile=profile, namespace=IdentityNamespace.objects.get(code="crm_id"), value="C-1"
    )
    PushRegistration.objects.create(
        profile=profile, app_id=app_id, platform=platform, token=token, **fields
    )
    return profile
