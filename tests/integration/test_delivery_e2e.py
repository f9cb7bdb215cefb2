"""End to end, with real processes: one REST call, and the personalised email arrives.

gunicorn and a Celery worker run as ``make run`` starts them (base settings,
``EMAIL_URL`` naming a real SMTP server on loopback), on the test database and
a broker of the test's own (Redis when the suite runs on Redis, as in CI). The
call goes over HTTP; the email is read as the SMTP server received it.
"""

from __future__ import annotations

import pytest

from delivery.models import Message
from tests.integration.conftest import ClarionFactory
from tests.integration.delivery_data import Api, live_campaign, trigger_secret
from tests.integration.smtp_sink import SmtpSink
from tests.integration.stack import wait_for

pytestmark = pytest.mark.worker

ARRIVAL_SECONDS = 30


def test_a_unitary_call_delivers_the_personalised_email_over_smtp(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a live transactional campaign, and Clarion's web and worker running
    campaign = live_campaign(create_new_profiles=True)
    running = clarion()
    running.start("web", "worker")  # no beat: only the web's own publish can start the send
    api = Api(running.base_url, trigger_secret())

    # When a unitary call names a recipient with profile data and context
    response = api.unitary(
        campaign,
        [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "ana@example.com",
                "channelData": {"emailAddress": "ana.work@example.com"},
                "profile": {"person": {"name": {"firstName": "Ana"}}},
                "context": {"product": {"name": "Jackets"}},
            }
        ],
        context={"offerCode": "THANKS", "product": {"name": "Coats"}},
    )

    # Then it is accepted, and one email arrives at the SMTP server
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    [entry] = accepted["recipients"]
    assert entry["userId"] == "ana@example.com"
    assert entry["status"] == "queued"
    assert smtp_sink.wait_until(lambda sink: sink.count() >= 1, ARRIVAL_SECONDS), running.outputs()
    [received] = smtp_sink.messages()
    email = received.message

    # addressed by channelData, from the channel configuration's sender, with ids
    message = Message.objects.get(pk=entry["messageId"])
    assert received.rcpt_tos == ["ana.work@example.com"]
    assert received.mail_from == "shop@example.com"
    assert email["To"] == "ana.work@example.com"
    assert email["From"] == "Clarion Shop <shop@example.com>"
    assert email["Reply-To"] == "help@example.com"
    assert email["X-Clarion-Message-Id"] == entry["messageId"]
    assert email["Message-ID"].startswith("<") and email["Message-ID"].endswith("@example.com>")

    # personalised: the recipient's profile, and its context over the call's
    assert email["Subject"] == "Thanks Ana"
    assert email.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in email.iter_parts()}
    assert list(parts) == ["text/plain", "text/html"]
    assert parts["text/plain"].rstrip("\n") == "Hello Ana, your Jackets ship today. Code: THANKS"
    assert parts["text/html"].rstrip("\n") == (
        "<p>Hello Ana, your Jackets ship today. Code: THANKS</p>"
    )

    # And the execution reads back as succeeded, its message sent, over the API
    def succeeded() -> bool:
        return bool(api.execution(accepted["executionId"]).json()["status"] == "succeeded")

    assert wait_for(succeeded, ARRIVAL_SECONDS, 0.2), running.outputs()
    read = api.execution(accepted["executionId"]).json()
    assert read["counts"] == {
        "queued": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "excluded": 0,
        "delivered": 0,
        "bounced": 0,
        "complained": 0,
    }
    assert read["recipients"] == [
        {
            "userId": "ana@example.com",
            "messageId": entry["messageId"],
            "status": "sent",
            "reason": "",
        }
    ]
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.attempts == 1
    assert message.provider_message_id == email["Message-ID"]
    assert message.locale == "en"
    assert len(smtp_sink.messages()) == 1
