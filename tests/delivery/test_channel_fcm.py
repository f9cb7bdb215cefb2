"""Push through FCM (firebase-admin), faked at the HTTP boundary.

firebase-admin 7 sends ``messaging.send`` with requests, after google-auth's OAuth
token call; both are faked with ``responses``, with the shapes Google returns. Its
httpx client serves only the async API: a respx router with no routes proves that
nothing goes out through it. The service account is generated for the test, with a
key that exists only in a temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from audiences.models import PushRegistration
from delivery.channels.base import SendResult
from delivery.channels.registry import transport_for, transports_close
from delivery.services.sending import message_send_batch
from tests.delivery.push_helpers import (
    FCM_SETTINGS,
    calls_to,
    profile_with_registration,
    push_call,
    push_outgoing,
    send,
)
from tests.factories import PushConfigurationFactory

PROJECT = "clarion-test"
CLIENT_EMAIL = f"clarion@{PROJECT}.iam.gserviceaccount.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
FCM_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
ACCESS_TOKEN = "ya29.c.test-access-token"
DEVICE_TOKEN = "fcm-device-token-1:APA91bH-test"
FCM_NAME = f"projects/{PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96"

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
            False,  # another project's credentials: the token is not gone
        ),
        (
            404,
            fcm_refusal(404, "NOT_FOUND", "Requested entity was not found."),
            "fcm_not_found",
            True,
            False,
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


def test_an_unregistered_fcm_token_is_removed_from_the_profile(
    fcm, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    profile = profile_with_registration("com.example.shop", "android", DEVICE_TOKEN)
    message = push_call(
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
