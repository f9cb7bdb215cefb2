"""Twilio's status callbacks and SMS replies, signed as Twilio signs them (X-Twilio-Signature
over the public URL and the POST parameters)."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from audiences.models import Consent, IdentityNamespace, Suppression
from delivery.calls import TriggerRecipient
from delivery.models import Message, MessageEvent, ReportCounter
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import accept_unitary, ids, use_fake_transport
from tests.factories import SmsConfigurationFactory

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-test-auth-token"
PUBLIC = "https://clarion.example"
TO = "+14155552671"
SID = "SM" + "fedcba9876543210" * 2


@pytest.fixture
def twilio_settings(settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.CLARION_PUBLIC_URL = PUBLIC


@pytest.fixture
def sms(live_campaign, monkeypatch, twilio_settings) -> Message:
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(sms_provider="twilio"),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "Your code is 4711"}},
    )
    use_fake_transport(monkeypatch)
    messages = accept_unitary(campaign, TriggerRecipient(type="aep", namespace="phone", user_id=TO))
    message_send_batch(message_ids=ids(messages))
    Message.objects.filter(pk=messages[0].pk).update(provider_message_id=SID)
    return Message.objects.get(pk=messages[0].pk)


def _post(client, path: str, params: dict[str, str], *, signature: str | None = None) -> Any:
    """POST as Twilio does; signed over the public URL unless ``signature`` is given."""
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    # The request arrives on an internal host and scheme (a proxy in front): the
    # signature is still checked over the public URL.
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, HTTP_HOST="localhost")


def _status(status: str, **more: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": SID,
        "SmsSid": SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": TO,
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **more,
    }


def test_a_delivered_callback_delivers_the_sms(client, sms) -> None:
    response = _post(client, "/hooks/twilio/status", _status("delivered"))

    assert response.status_code == 204
    sms.refresh_from_db()
    assert sms.status == "delivered"
    event = MessageEvent.objects.get()
    assert (event.type, event.provider, event.provider_event_id) == (
        "delivered",
        "twilio",
        f"{SID}:delivered",
    )


def test_a_repeated_callback_is_recorded_once(client, sms) -> None:
    _post(client, "/hooks/twilio/status", _status("delivered"))
    _post(client, "/hooks/twilio/status", _status("delivered"))

    assert MessageEvent.objects.count() == 1
    row = ReportCounter.objects.get(campaign_id=sms.campaign_id, metric="delivered")
    assert row.count == 1


def test_an_undelivered_sms_bounces_with_the_error_code(client, sms) -> None:
    response = _post(client, "/hooks/twilio/status", _status("undelivered", ErrorCode="30003"))

    assert response.status_code == 204
    sms.refresh_from_db()
    assert (sms.status, sms.reason) == ("bounced", "twilio_30003")
    assert Suppression.objects.count() == 0  # an unreachable handset may come back


def test_an_unknown_number_bounces_and_is_suppressed(client, sms) -> None:
    _post(client, "/hooks/twilio/status", _status("failed", ErrorCode="30005"))

    sms.refresh_from_db()
    assert (sms.status, sms.reason) == ("bounced", "twilio_30005")
    assert Suppression.objects.get().reason == "hard_bounce"


def test_interim_statuses_change_nothing(client, sms) -> None:
    for status in ("queued", "sending", "sent"):
        assert _post(client, "/hooks/twilio/status", _status(status)).status_code == 204

    sms.refresh_from_db()
    assert sms.status == "sent"
    assert MessageEvent.objects.count() == 0


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "wrong"])
def test_a_callback_with_a_bad_signature_is_refused(client, sms, signature) -> None:
    response = _post(client, "/hooks/twilio/status", _status("undelivered"), signature=signature)

    assert response.status_code == 403
    sms.refresh_from_db()
    assert sms.status == "sent"
    assert (MessageEvent.objects.count(), Suppression.objects.count()) == (0, 0)


def test_a_callback_signed_for_another_url_or_with_other_params_is_refused(client, sms) -> None:
    params = _status("delivered")
    other_url = RequestValidator(AUTH_TOKEN).compute_signature(
        "https://evil.example/hooks/twilio/status", params
    )
    tampered = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC + "/hooks/twilio/status", params
    )

    first = _post(client, "/hooks/twilio/status", params, signature=other_url)
    second = _post(
        client,
        "/hooks/twilio/status",
        {**params, "MessageStatus": "undelivered"},
        signature=tampered,
    )

    assert (first.status_code, second.status_code) == (403, 403)
    assert MessageEvent.objects.count() == 0


def test_without_an_auth_token_every_callback_is_refused(client, sms, settings) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    signature = RequestValidator("").compute_signature(
        PUBLIC + "/hooks/twilio/status", _status("delivered")
    )

    response = _post(client, "/hooks/twilio/status", _status("delivered"), signature=signature)

    assert response.status_code == 403


def _reply(body: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "From": TO, "To": "+15005550006", "Body": body}


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Unsubscribe ", "CANCEL", "END", "QUIT", "STOPALL"]
)
def test_a_stop_reply_unsubscribes_the_number(client, sms, word) -> None:
    response = _post(client, "/hooks/twilio/inbound", _reply(word))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason, suppression.note) == (
        "sms",
        TO,
        "unsubscribed",
        "sms_stop",
    )
    assert Consent.objects.get(profile=sms.profile, channel="sms").status == "opted_out"
    event = MessageEvent.objects.get()
    assert (event.message_id, event.type, event.reason) == (sms.pk, "unsubscribed", "sms_stop")


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_a_start_reply_subscribes_the_number_again(client, sms, word) -> None:
    _post(client, "/hooks/twilio/inbound", _reply("STOP"))

    response = _post(client, "/hooks/twilio/inbound", _reply(word))

    assert response.status_code == 200
    assert Suppression.objects.count() == 0
    assert Consent.objects.get(profile=sms.profile, channel="sms").status == "opted_in"


def test_another_reply_changes_nothing(client, sms) -> None:
    response = _post(client, "/hooks/twilio/inbound", _reply("Stop sending me these please"))

    assert response.status_code == 200
    assert (Suppression.objects.count(), MessageEvent.objects.count()) == (0, 0)


def test_a_stop_reply_with_a_bad_signature_is_refused(client, sms) -> None:
    response = _post(client, "/hooks/twilio/inbound", _reply("STOP"), signature="forged")

    assert response.status_code == 403
    assert Suppression.objects.count() == 0


def test_a_stop_callback_error_is_an_unsubscribe(client, sms) -> None:
    _post(client, "/hooks/twilio/status", _status("failed", ErrorCode="21610"))

    assert Suppression.objects.get().reason == "unsubscribed"


def test_the_default_status_callback_is_clarions_own_on_a_public_https_url() -> None:
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.test'; "
        "django.setup(); from django.conf import settings; print(settings.TWILIO_STATUS_CALLBACK_URL)"
    )
    env = {**__import__("os").environ, "CLARION_PUBLIC_URL": "https://clarion.example/"}
    env.pop("TWILIO_STATUS_CALLBACK_URL", None)
    public = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    env["CLARION_PUBLIC_URL"] = "http://localhost:8000"
    local = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert public.stdout.strip() == "https://clarion.example/hooks/twilio/status"
    assert local.stdout.strip() == ""
