"""SMS through Twilio, faked at the HTTP boundary with ``responses``.

The answers are the shapes Twilio's Messages API returns (2010-04-01): the message
resource on 201, and ``{"code", "message", "more_info", "status"}`` on errors.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from audiences.models import IdentityNamespace, Suppression
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.base import Outgoing, SendResult, TransportError
from delivery.channels.registry import transport_for, transports_close
from delivery.models import Message, MessageAttempt
from delivery.services.sending import message_send_batch
from tests.factories import SmsConfigurationFactory

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CALLBACK = "https://clarion.example/hooks/twilio"
SENDER = "+15005550006"
TO = "+14155552671"
MESSAGE_SID = "SM" + "fedcba9876543210" * 2


def created(body: str, *, to: str = TO, sender: str | None = SENDER) -> dict[str, Any]:
    """Twilio's 201 answer: the message resource, as queued."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": MESSAGE_SID,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{MESSAGE_SID}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{MESSAGE_SID}.json",
    }


def refused(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture
def twilio(settings: Any) -> Iterator[responses.RequestsMock]:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK
    transports_close()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    transports_close()


def outgoing(body: str = "Hi Ana", *, sender: str = SENDER, to: str = TO) -> Outgoing:
    return Outgoing(
        message_id=uuid.uuid4(),
        channel="sms",
        address=to,
        parts={"body": body},
        channel_settings={"sender": sender, "provider": "twilio"},
    )


def send(message: Outgoing) -> SendResult:
    [result] = transport_for("sms", message.channel_settings).send_many([message])
    return result


def form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


def test_an_sms_goes_out_with_to_from_body_and_the_status_callback(twilio) -> None:
    twilio.post(MESSAGES_URL, json=created("Hi Ana, your code is 4711"), status=201)
    message = outgoing("Hi Ana, your code is 4711")

    result = send(message)

    assert result == SendResult(message.message_id, provider_message_id=MESSAGE_SID)
    [call] = twilio.calls
    assert form(call) == {
        "To": [TO],
        "From": [SENDER],
        "Body": ["Hi Ana, your code is 4711"],
        "StatusCallback": [CALLBACK],
    }
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {credentials}"


def test_a_messaging_service_sender_lets_twilio_pick_the_number(twilio) -> None:
    service = "MG" + "00112233445566778899aabbccddeeff"
    twilio.post(MESSAGES_URL, json=created("Hi", sender=None), status=201)

    result = send(outgoing("Hi", sender=service))

    assert result.error is None
    assert form(twilio.calls[0]) == {
        "To": [TO],
        "MessagingServiceSid": [service],
        "Body": ["Hi"],
        "StatusCallback": [CALLBACK],
    }


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        (
            400,
            refused(400, 21211, "Invalid 'To' Phone Number: +1415555XXXX"),
            TransportError(
                "twilio_21211",
                "400 21211: Unable to create record: Invalid 'To' Phone Number: +1415555XXXX",
                True,
            ),
        ),
        (
            400,
            refused(400, 21614, "'To' number is not a valid mobile number"),
            TransportError(
                "twilio_21614",
                "400 21614: Unable to create record: 'To' number is not a valid mobile number",
                True,
            ),
        ),
        (
            400,
            refused(400, 21610, "Attempt to send to unsubscribed recipient"),
            TransportError(
                "twilio_21610",
                "400 21610: Unable to create record: Attempt to send to unsubscribed recipient",
                permanent=True,
                unsubscribed=True,
            ),
        ),
        (
            429,
            refused(429, 20429, "Too Many Requests"),
            TransportError(
                "twilio_20429", "429 20429: Unable to create record: Too Many Requests", False
            ),
        ),
        (
            503,
            refused(503, 20503, "Service Unavailable"),
            TransportError(
                "twilio_20503", "503 20503: Unable to create record: Service Unavailable", False
            ),
        ),
        (
            401,
            refused(401, 20003, "Authenticate"),
            TransportError(
                "provider_auth_failed", "401 20003: Unable to create record: Authenticate", False
            ),
        ),
    ],
)
def test_twilio_errors_are_classified(twilio, status, answer, expected) -> None:
    twilio.post(MESSAGES_URL, json=answer, status=status)

    result = send(outgoing())

    assert result.error == expected
    assert result.provider_message_id == ""


def test_a_bad_gateway_page_is_transient(twilio) -> None:
    twilio.post(MESSAGES_URL, body="<html>502 Bad Gateway</html>", status=502)

    result = send(outgoing())

    assert result.error == TransportError("http_502", "502: Unable to create record", False)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), "timeout"),
        (requests.exceptions.ReadTimeout("read timed out"), "timeout"),
        (requests.exceptions.ConnectionError("connection refused"), "connection_error"),
    ],
)
def test_timeouts_and_connection_errors_are_transient(twilio, failure, code) -> None:
    twilio.post(MESSAGES_URL, body=failure)

    result = send(outgoing())

    assert result.error == TransportError(code, str(failure), permanent=False)


def test_without_credentials_messages_wait_with_the_reason(twilio, settings) -> None:
    settings.TWILIO_AUTH_TOKEN = ""

    result = send(outgoing())

    assert result.error == TransportError(
        "provider_not_configured",
        "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
        permanent=False,
    )
    assert len(twilio.calls) == 0

    # Once the operator sets it, the next attempt goes out.
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    twilio.post(MESSAGES_URL, json=created("Hi Ana"), status=201)

    assert send(outgoing()).provider_message_id == MESSAGE_SID
    assert len(twilio.calls) == 1


def test_a_provider_clarion_does_not_know_is_a_transient_error(twilio) -> None:
    message = Outgoing(
        message_id=uuid.uuid4(),
        channel="sms",
        address=TO,
        parts={"body": "Hi"},
        channel_settings={"sender": SENDER, "provider": "carrier-pigeon"},
    )

    result = send(message)

    assert result.error == TransportError(
        "provider_not_configured",
        "The sms provider 'carrier-pigeon' is not one Clarion knows.",
        permanent=False,
    )
    assert len(twilio.calls) == 0


# --- Through the sending pipeline ---------------------------------------------------


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], float]]:
    """Retry tasks are recorded (message ids, countdown) instead of going to the broker."""
    from delivery.tasks import message_send_task

    scheduled: list[tuple[list[str], float]] = []
    monkeypatch.setattr(
        message_send_task,
        "apply_async",
        lambda args, countdown: scheduled.append((list(args[0]), countdown)),
    )
    return scheduled


@pytest.fixture
def sms_message(api_client, live_campaign, published, django_capture_on_commit_callbacks):
    """A unitary call to an SMS campaign sending through Twilio, accepted: its message."""
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(
            sms_provider="twilio", sms_sender=SENDER
        ),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "Hi {{ profile.name }}, your code is {{ context.code }}"}},
    )
    body = {
        "requestId": "sms-1",
        "campaignId": str(campaign.pk),
        "recipients": [
            {
                "type": "aep",
                "namespace": "phone",
                "userId": TO,
                "profile": {"name": "Ana"},
                "context": {"code": "4711"},
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(
            "/api/v1/executions/unitary", body, format="json"
        )
    assert response.status_code == 202, response.content
    return Message.objects.get()


def test_a_triggered_sms_is_sent_and_records_the_sid(twilio, sms_message) -> None:
    twilio.post(MESSAGES_URL, json=created("Hi Ana, your code is 4711"), status=201)

    outcome = message_send_batch(message_ids=[str(sms_message.pk)])

    assert (outcome.sent, outcome.failed) == (1, 0)
    assert form(twilio.calls[0])["Body"] == ["Hi Ana, your code is 4711"]
    sms_message.refresh_from_db()
    assert (sms_message.status, sms_message.provider_message_id) == ("sent", MESSAGE_SID)


def test_a_recipient_who_replied_stop_fails_and_is_suppressed_as_unsubscribed(
    twilio, sms_message, retries
) -> None:
    twilio.post(
        MESSAGES_URL,
        json=refused(400, 21610, "Attempt to send to unsubscribed recipient"),
        status=400,
    )

    outcome = message_send_batch(message_ids=[str(sms_message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 1)
    assert retries == []
    sms_message.refresh_from_db()
    assert (sms_message.status, sms_message.reason, sms_message.attempts) == (
        "failed",
        "twilio_21610",
        1,
    )
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        "sms",
        TO,
        "unsubscribed",
    )


def test_an_invalid_number_fails_without_suppressing(twilio, sms_message, retries) -> None:
    twilio.post(
        MESSAGES_URL,
        json=refused(400, 21614, "'To' number is not a valid mobile number"),
        status=400,
    )

    message_send_batch(message_ids=[str(sms_message.pk)])

    sms_message.refresh_from_db()
    assert (sms_message.status, sms_message.reason) == ("failed", "twilio_21614")
    assert not Suppression.objects.exists()
    assert retries == []


def test_a_rate_limited_sms_is_retried(twilio, sms_message, retries) -> None:
    twilio.post(MESSAGES_URL, json=refused(429, 20429, "Too Many Requests"), status=429)

    outcome = message_send_batch(message_ids=[str(sms_message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 0)
    sms_message.refresh_from_db()
    assert (sms_message.status, sms_message.reason) == ("queued", "twilio_20429")
    assert [ids for ids, _countdown in retries] == [[str(sms_message.pk)]]
    attempt = MessageAttempt.objects.get()
    assert (attempt.outcome, attempt.code, attempt.detail) == (
        "retry",
        "twilio_20429",
        "429 20429: Unable to create record: Too Many Requests",
    )
    assert not Suppression.objects.exists()
