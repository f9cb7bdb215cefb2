"""Push through FCM (firebase-admin) and Web Push (pywebpush), faked at the HTTP boundary.

firebase-admin 7 sends ``messaging.send`` with requests, after google-auth's OAuth
token call; both are faked with ``responses``, with the shapes Google returns. Its
httpx client serves only the async API: a respx router with no routes proves that
nothing goes out through it. The service account is generated for the test, with a
key that exists only in a temporary folder.

Web Push goes through requests as well; the test decrypts what was posted (RFC
8291) with the subscription's private key and checks the VAPID token (RFC 8292).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import http_ece
import jwt
import pytest
import requests
import responses
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from audiences.models import Identity, IdentityNamespace, Profile, PushRegistration
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.base import Outgoing, SendResult, TransportError
from delivery.channels.registry import transport_for, transports_close
from delivery.models import Message
from delivery.services.sending import message_send_batch
from tests.factories import PushConfigurationFactory

PROJECT = "clarion-test"
CLIENT_EMAIL = f"clarion@{PROJECT}.iam.gserviceaccount.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
FCM_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
ACCESS_TOKEN = "ya29.c.test-access-token"
DEVICE_TOKEN = "fcm-device-token-1:APA91bH-test"
FCM_NAME = f"projects/{PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96"
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


# --- FCM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fcm(
    settings: Any, tmp_path: Path, service_account_key: rsa.RSAPrivateKey
) -> Iterator[responses.RequestsMock]:
    """A throwaway service account file in FCM_CREDENTIALS_FILE; Google faked."""
    pem = service_account_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URL,
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(account))
    settings.FCM_CREDENTIALS_FILE = str(path)
    transports_close()
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        respx.mock(assert_all_called=False) as httpx_mock,
    ):
        yield mock
        assert httpx_mock.calls.call_count == 0
    transports_close()


def token_answer(mock: responses.RequestsMock) -> None:
    mock.post(
        TOKEN_URL,
        json={"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"},
    )


def fcm_refusal(status: int, grpc_status: str, message: str, fcm_code: str = "") -> dict:
    """The FCM v1 error body: a google.rpc.Status, with the FCM error code in details."""
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        if fcm_code
        else []
    )
    return {
        "error": {"code": status, "message": message, "status": grpc_status, "details": details}
    }


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


def test_fcm_gets_a_token_then_sends_the_notification_and_data(fcm, service_account_key) -> None:
    token_answer(fcm)
    fcm.post(FCM_URL, json={"name": FCM_NAME})
    first = push_outgoing(DEVICE_TOKEN, FCM_SETTINGS)
    second = push_outgoing("fcm-device-token-2", FCM_SETTINGS)

    results = transport_for("push", FCM_SETTINGS).send_many([first, second])

    assert results == [
        SendResult(first.message_id, provider_message_id=FCM_NAME),
        SendResult(second.message_id, provider_message_id=FCM_NAME),
    ]
    # One OAuth call, a JWT signed with the service account's key; the token is reused.
    [token_call] = calls_to(fcm, TOKEN_URL)
    form = parse_qs(token_call.request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0],
        service_account_key.public_key(),
        algorithms=["RS256"],
        audience=TOKEN_URL,
    )
    assert claims["iss"] == CLIENT_EMAIL
    assert "https://www.googleapis.com/auth/cloud-platform" in claims["scope"].split()
    first_send, second_send = calls_to(fcm, FCM_URL)
    assert first_send.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(first_send.request.body) == {
        "message": {
            "token": DEVICE_TOKEN,
            "notification": {
                "title": "Your jacket shipped",
                "body": "It arrives on Tuesday",
                "image": "https://shop.example/jacket.png",
            },
            "data": {"clarionMessageId": str(first.message_id), "deepLink": "shop://orders/42"},
        }
    }
    assert json.loads(second_send.request.body)["message"]["token"] == "fcm-device-token-2"


@pytest.mark.parametrize(
    ("status", "answer", "code", "permanent", "gone"),
    [
        (
            404,
            fcm_refusal(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
            "fcm_unregistered",
            True,
            True,
        ),
        (
            403,
            fcm_refusal(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"),
            "fcm_sender_id_mismatch",
            True,
            True,
        ),
        (
            404,
            fcm_refusal(404, "NOT_FOUND", "Requested entity was not found."),
            "fcm_not_found",
            True,
            True,
        ),
        (
            400,
            fcm_refusal(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            ),
            "fcm_invalid_argument",
            True,
            False,
        ),
        (
            429,
            fcm_refusal(429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending", "QUOTA_EXCEEDED"),
            "fcm_quota_exceeded",
            False,
            False,
        ),
        (
            401,
            fcm_refusal(401, "UNAUTHENTICATED", "Request had invalid authentication"),
            "provider_auth_failed",
            False,
            False,
        ),
    ],
)
def test_fcm_errors_are_classified(fcm, status, answer, code, permanent, gone) -> None:
    token_answer(fcm)
    fcm.post(FCM_URL, json=answer, status=status)

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent, result.error.gone) == (
        code,
        permanent,
        gone,
    )
    assert result.error.suppress is False
    assert answer["error"]["message"] in result.error.detail


def test_an_fcm_outage_is_transient(fcm) -> None:
    token_answer(fcm)
    fcm.post(FCM_URL, body="<html>502 Bad Gateway</html>", status=502)

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent) == ("fcm_unknown", False)


def test_firebase_admin_retries_a_500_itself(fcm) -> None:
    token_answer(fcm)
    fcm.post(FCM_URL, json=fcm_refusal(500, "INTERNAL", "Internal error"), status=500)
    fcm.post(FCM_URL, json={"name": FCM_NAME})

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.provider_message_id == FCM_NAME
    assert len(calls_to(fcm, FCM_URL)) == 2


def test_an_unreachable_fcm_is_transient(fcm) -> None:
    token_answer(fcm)
    fcm.post(FCM_URL, body=requests.exceptions.ConnectionError("connection refused"))

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent, result.error.gone) == (
        "fcm_unavailable",
        False,
        False,
    )


def test_a_refused_oauth_token_is_transient_and_sends_nothing(fcm) -> None:
    fcm.post(
        TOKEN_URL,
        json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
        status=400,
    )

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent) == ("provider_auth_failed", False)
    assert "invalid_grant" in result.error.detail
    assert calls_to(fcm, FCM_URL) == []


def test_an_unreadable_credentials_file_is_a_transient_error(fcm, settings, tmp_path) -> None:
    settings.FCM_CREDENTIALS_FILE = str(tmp_path / "missing.json")

    result = send(push_outgoing(DEVICE_TOKEN, FCM_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent) == ("provider_not_configured", False)
    assert result.error.detail.startswith("FCM_CREDENTIALS_FILE cannot be used: ")
    assert len(fcm.calls) == 0


# --- Web Push -------------------------------------------------------------------------

ENDPOINT = "https://fcm.googleapis.com/fcm/send/dUx8uJ5mlwE:APA91bH-subscription-1"
LOCATION = "https://fcm.googleapis.com/0:1712345678901234%7031b2e6f9fd7ecd"
SUBJECT = "mailto:ops@shop.example"


@pytest.fixture(scope="module")
def vapid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def subscriber() -> dict[str, Any]:
    """A browser's subscription keys (RFC 8291): its P-256 key pair and auth secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    return {"key": key, "auth": auth, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}


@pytest.fixture
def webpush(
    settings: Any, vapid_key: ec.EllipticCurvePrivateKey
) -> Iterator[responses.RequestsMock]:
    raw = vapid_key.private_numbers().private_value.to_bytes(32, "big")
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(raw)
    settings.WEBPUSH_VAPID_SUBJECT = SUBJECT
    transports_close()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    transports_close()


def test_web_push_posts_the_encrypted_payload_with_vapid(webpush, subscriber, vapid_key) -> None:
    webpush.post(ENDPOINT, status=201, headers={"Location": LOCATION})
    message = push_outgoing(ENDPOINT, WEB_SETTINGS, subscription={"keys": subscriber["keys"]})

    result = send(message)

    assert result == SendResult(message.message_id, provider_message_id=LOCATION)
    [call] = webpush.calls
    headers = call.request.headers
    assert headers["TTL"] == "86400"
    assert headers["Content-Encoding"] == "aes128gcm"
    scheme, _space, credentials = headers["Authorization"].partition(" ")
    token, public_key = (item.split("=", 1)[1] for item in credentials.split(","))
    assert scheme == "vapid"
    vapid_public = vapid_key.public_key()
    assert public_key == b64url(
        vapid_public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    claims = jwt.decode(
        token, vapid_public, algorithms=["ES256"], audience="https://fcm.googleapis.com"
    )
    assert claims["sub"] == SUBJECT
    payload = http_ece.decrypt(
        call.request.body,
        private_key=subscriber["key"],
        auth_secret=subscriber["auth"],
        version="aes128gcm",
    )
    assert json.loads(payload) == {**PARTS, "clarionMessageId": str(message.message_id)}


def test_web_push_takes_a_pem_vapid_key(webpush, subscriber, settings, vapid_key) -> None:
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    webpush.post(ENDPOINT, status=201)

    result = send(push_outgoing(ENDPOINT, WEB_SETTINGS, subscription={"keys": subscriber["keys"]}))

    assert (result.error, result.provider_message_id) == (None, "")
    token = webpush.calls[0].request.headers["Authorization"].split("t=")[1].split(",")[0]
    jwt.decode(
        token, vapid_key.public_key(), algorithms=["ES256"], audience="https://fcm.googleapis.com"
    )


@pytest.mark.parametrize(
    ("status", "code", "permanent", "gone"),
    [
        (404, "webpush_404", True, True),
        (410, "webpush_410", True, True),
        (400, "webpush_400", True, False),
        (413, "webpush_413", True, False),
        (429, "webpush_429", False, False),
        (500, "webpush_500", False, False),
        (503, "webpush_503", False, False),
    ],
)
def test_web_push_errors_are_classified(webpush, subscriber, status, code, permanent, gone) -> None:
    webpush.post(ENDPOINT, status=status, body="push service says no")

    result = send(push_outgoing(ENDPOINT, WEB_SETTINGS, subscription={"keys": subscriber["keys"]}))

    assert result.error is not None
    assert (result.error.code, result.error.permanent, result.error.gone) == (
        code,
        permanent,
        gone,
    )
    assert result.error.detail.endswith(": push service says no")


def test_web_push_timeouts_are_transient(webpush, subscriber) -> None:
    webpush.post(ENDPOINT, body=requests.exceptions.ReadTimeout("read timed out"))

    result = send(push_outgoing(ENDPOINT, WEB_SETTINGS, subscription={"keys": subscriber["keys"]}))

    assert result.error == TransportError("timeout", "read timed out", permanent=False)


def test_web_push_without_subscription_keys_fails_and_posts_nothing(webpush) -> None:
    result = send(push_outgoing(ENDPOINT, WEB_SETTINGS))

    assert result.error is not None
    assert (result.error.code, result.error.permanent, result.error.gone) == (
        "webpush_no_subscription",
        True,
        False,
    )
    assert len(webpush.calls) == 0


def test_web_push_without_vapid_settings_waits_with_the_reason(
    webpush, subscriber, settings
) -> None:
    settings.WEBPUSH_VAPID_SUBJECT = ""

    result = send(push_outgoing(ENDPOINT, WEB_SETTINGS, subscription={"keys": subscriber["keys"]}))

    assert result.error == TransportError(
        "provider_not_configured",
        "Web Push is not configured: set WEBPUSH_VAPID_PRIVATE_KEY and WEBPUSH_VAPID_SUBJECT.",
        permanent=False,
    )
    assert len(webpush.calls) == 0


# --- Through the sending pipeline: a gone token is forgotten ---------------------------


def _push_call(api_client, live_campaign, django_capture_on_commit_callbacks, configuration):
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


def _profile_with_registration(app_id: str, platform: str, token: str, **fields: Any) -> Profile:
    profile = Profile.objects.create(attributes={"name": "Ana"})
    Identity.objects.create(
        profile=profile, namespace=IdentityNamespace.objects.get(code="crm_id"), value="C-1"
    )
    PushRegistration.objects.create(
        profile=profile, app_id=app_id, platform=platform, token=token, **fields
    )
    return profile


def test_an_unregistered_fcm_token_is_removed_from_the_profile(
    fcm, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    profile = _profile_with_registration("com.example.shop", "android", DEVICE_TOKEN)
    message = _push_call(
        api_client,
        live_campaign,
        django_capture_on_commit_callbacks,
        PushConfigurationFactory.create(push_provider="fcm", push_app_schemes=["shop"]),
    )
    token_answer(fcm)
    fcm.post(
        FCM_URL,
        json=fcm_refusal(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
        status=404,
    )

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 1)
    sent = json.loads(calls_to(fcm, FCM_URL)[0].request.body)
    assert sent["message"]["token"] == DEVICE_TOKEN
    assert sent["message"]["notification"]["title"] == "Hi Ana"
    message.refresh_from_db()
    assert (message.status, message.reason, message.attempts) == ("failed", "fcm_unregistered", 1)
    assert not PushRegistration.objects.filter(profile=profile).exists()


def test_a_web_push_subscription_gone_410_is_removed_from_the_profile(
    webpush, subscriber, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    profile = _profile_with_registration(
        "shop-web", "web", ENDPOINT, subscription={"keys": subscriber["keys"]}
    )
    other = PushRegistration.objects.create(
        profile=profile, app_id="shop-web-2", platform="web", token="https://push.example/other"
    )
    message = _push_call(
        api_client,
        live_campaign,
        django_capture_on_commit_callbacks,
        PushConfigurationFactory.create(
            push_provider="webpush",
            push_app_id="shop-web",
            push_platform="web",
            push_app_schemes=["shop"],
        ),
    )
    webpush.post(ENDPOINT, status=410, body="push subscription has unsubscribed or expired.")

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 1)
    assert len(webpush.calls) == 1
    message.refresh_from_db()
    assert (message.status, message.reason) == ("failed", "webpush_410")
    assert list(PushRegistration.objects.filter(profile=profile)) == [other]
