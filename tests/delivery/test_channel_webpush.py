"""Push through Web Push (pywebpush), faked at the HTTP boundary.

pywebpush posts with requests; the test decrypts what was posted (RFC 8291) with
the subscription's private key and checks the VAPID token (RFC 8292).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import http_ece
import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from audiences.models import PushRegistration
from delivery.channels.base import SendResult, TransportError
from delivery.channels.registry import transports_close
from delivery.services.sending import message_send_batch
from tests.delivery.push_helpers import (
    PARTS,
    WEB_SETTINGS,
    b64url,
    profile_with_registration,
    push_call,
    push_outgoing,
    send,
)
from tests.factories import PushConfigurationFactory

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


def test_a_web_push_subscription_gone_410_is_removed_from_the_profile(
    webpush, subscriber, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    profile = profile_with_registration(
        "shop-web", "web", ENDPOINT, subscription={"keys": subscriber["keys"]}
    )
    other = PushRegistration.objects.create(
        profile=profile, app_id="shop-web-2", platform="web", token="https://push.example/other"
    )
    message = push_call(
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
