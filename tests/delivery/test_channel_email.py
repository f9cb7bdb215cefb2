"""The email transport against a real SMTP server (aiosmtpd) on loopback, in this process.

Django's SMTP backend talks to the server; the server's handler records every
connection (one EHLO each) and every message, and answers what a test asks for
(451 at RCPT, 550, 552...).
"""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from audiences.models import Suppression
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.registry import transports_close
from delivery.models import Message, MessageAttempt
from delivery.services.sending import message_send_batch

HTML = "<html><head></head><body><p>{{ context.product.name }}</p></body></html>"
CONTENT = {
    "en": {
        "subject": "Thanks {{ profile.person.name.firstName }}",
        "preheader": "Your order is on its way",
        "html": HTML,
        "text": "{{ context.product.name }} for {{ profile.person.name.firstName }}",
    }
}


class Recorder:
    """An aiosmtpd handler: records connections and messages, answers as told."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []  # the client's (host, port) per EHLO
        self.messages: list[tuple[tuple[str, int], str, list[str], bytes]] = []
        self.rcpt_replies: list[str] = []  # answered to the next RCPTs, then 250
        self.data_replies: dict[str, str] = {}  # recipient -> answer to DATA (else 250)
        self.servers: list[Any] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections.append(session.peer)
        self.servers.append(server)
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refusal = self.data_replies.get(envelope.rcpt_tos[0])
        if refusal:
            return refusal
        content = envelope.original_content or envelope.content
        self.messages.append((session.peer, envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 2.0.0 Message accepted for delivery"

    def drop_connections(self, controller: Controller) -> None:
        """The server closes every open connection (an idle timeout, a restart)."""
        servers, self.servers = self.servers, []
        for server in servers:
            controller.loop.call_soon_threadsafe(server.transport.close)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), controller.loop).result(timeout=5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings: Any, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Recorder, Controller]]:
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd logs every command
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    transports_close()  # no connection made for an earlier test's backend
    yield recorder, controller
    transports_close()
    controller.stop()


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
def trigger(api_client, live_campaign, published, django_capture_on_commit_callbacks):
    """``trigger(address)``: accept a unitary call to ``address``; returns its message."""
    campaign = live_campaign(create_new_profiles=True, content=CONTENT)
    client = api_client(EXECUTIONS_TRIGGER)

    def send(address: str, first_name: str = "Ana") -> Message:
        body = {
            "requestId": f"r-{uuid.uuid4()}",
            "campaignId": str(campaign.pk),
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": address,
                    "profile": {"person": {"name": {"firstName": first_name}}},
                    "context": {"product": {"name": "Jackets"}},
                }
            ],
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/executions/unitary", body, format="json")
        assert response.status_code == 202, response.content
        return Message.objects.get(pk=response.json()["recipients"][0]["messageId"])

    return send


def _parsed(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_proper_mime_message_arrives(smtp, trigger) -> None:
    recorder, _controller = smtp
    message = trigger("ana@example.com")

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (1, 0)
    [(_peer, mail_from, rcpt_tos, raw)] = recorder.messages
    assert (mail_from, rcpt_tos) == ("shop@example.com", ["ana@example.com"])
    received = _parsed(raw)
    assert received["From"] == "Clarion Shop <shop@example.com>"
    assert received["Reply-To"] == "help@example.com"
    assert received["To"] == "ana@example.com"
    assert received["Subject"] == "Thanks Ana"
    assert received["X-Clarion-Message-Id"] == str(message.pk)
    message_id = received["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@example.com>")
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content() == "Jackets for Ana"
    assert html.get_content_type() == "text/html"
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
        "Your order is on its way</div>"
    )
    assert html.get_content().startswith(f"<html><head></head><body>{hidden}<p>Jackets</p>")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.provider_message_id == message_id


def test_one_connection_serves_batches_and_is_opened_again_after_a_drop(smtp, trigger) -> None:
    recorder, controller = smtp
    first, second, third = (trigger(f"{name}@example.com") for name in ("ana", "ben", "cy"))

    message_send_batch(message_ids=[str(first.pk)])
    message_send_batch(message_ids=[str(second.pk)])

    assert len(recorder.connections) == 1
    assert [peer for peer, *_rest in recorder.messages] == [recorder.connections[0]] * 2

    recorder.drop_connections(controller)
    outcome = message_send_batch(message_ids=[str(third.pk)])

    assert outcome.sent == 1
    assert len(recorder.connections) == 2
    assert recorder.connections[1] != recorder.connections[0]
    assert recorder.messages[2][0] == recorder.connections[1]
    assert recorder.messages[2][2] == ["cy@example.com"]
    third.refresh_from_db()
    assert (third.status, third.attempts, third.reason) == ("sent", 1, "")


def test_451_at_rcpt_is_retried_later_and_then_sent(smtp, trigger, retries) -> None:
    recorder, _controller = smtp
    recorder.rcpt_replies = ["451 4.7.1 Greylisted, try again later"]
    message = trigger("ana@example.com")
    before = timezone.now()

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 0)
    assert recorder.messages == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)
    assert (message.reason, message.reason_detail) == (
        "smtp_451",
        "451 4.7.1 Greylisted, try again later",
    )
    # The first retry comes after the 30 s base delay, +-20% jitter.
    assert message.next_attempt_at is not None
    delay = (message.next_attempt_at - before).total_seconds()
    assert 24 <= delay <= 36 + 1
    [(ids, countdown)] = retries
    assert ids == [str(message.pk)]
    assert 24 <= countdown <= 36
    attempt = MessageAttempt.objects.get(message=message)
    assert (attempt.number, attempt.outcome, attempt.code) == (1, "retry", "smtp_451")

    # The retry's countdown has passed.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    outcome = message_send_batch(message_ids=ids)

    assert outcome.sent == 1
    assert [rcpt for _peer, _from, rcpt, _raw in recorder.messages] == [["ana@example.com"]]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("sent", 2, "")
    assert list(
        MessageAttempt.objects.filter(message=message).values_list("number", "outcome", "code")
    ) == [(1, "retry", "smtp_451"), (2, "sent", "")]
    assert len(retries) == 1


def test_550_at_rcpt_fails_at_once_and_suppresses_the_address(smtp, trigger, retries) -> None:
    recorder, _controller = smtp
    recorder.rcpt_replies = ["550 5.1.1 <ana@example.com>: Recipient address rejected"]
    message = trigger("ana@example.com")

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 1)
    assert recorder.messages == []
    assert retries == []
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("failed", 1, "smtp_550")
    assert message.reason_detail == "550 5.1.1 <ana@example.com>: Recipient address rejected"
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        "email",
        "ana@example.com",
        "hard_bounce",
    )


def test_552_fails_without_suppressing(smtp, trigger, retries) -> None:
    recorder, _controller = smtp
    recorder.rcpt_replies = ["552 5.2.2 Mailbox full"]
    message = trigger("ana@example.com")

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 1)
    assert recorder.messages == []
    assert retries == []
    message.refresh_from_db()
    assert (message.status, message.reason, message.reason_detail) == (
        "failed",
        "smtp_552",
        "552 5.2.2 Mailbox full",
    )
    assert not Suppression.objects.exists()


def test_550_after_data_is_about_the_content_and_suppresses_nothing(smtp, trigger) -> None:
    recorder, _controller = smtp
    recorder.data_replies = {"ana@example.com": "550 5.7.1 Message rejected as spam"}
    refused, accepted = trigger("ana@example.com"), trigger("ben@example.com")

    outcome = message_send_batch(message_ids=[str(refused.pk), str(accepted.pk)])

    assert (outcome.sent, outcome.failed) == (1, 1)
    refused.refresh_from_db()
    assert (refused.status, refused.reason) == ("failed", "smtp_550")
    assert not Suppression.objects.exists()
    # The session went on after the refusal: the other message used the same connection.
    assert [rcpt for _peer, _from, rcpt, _raw in recorder.messages] == [["ben@example.com"]]
    assert len(recorder.connections) == 1


def test_a_server_that_is_down_is_a_transient_error(smtp, trigger, retries, settings: Any) -> None:
    recorder, _controller = smtp
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    message = trigger("ana@example.com")

    outcome = message_send_batch(message_ids=[str(message.pk)])

    assert (outcome.sent, outcome.failed) == (0, 0)
    assert recorder.connections == []
    message.refresh_from_db()
    assert (message.status, message.reason) == ("queued", "connection_refused")
    assert [ids for ids, _countdown in retries] == [[str(message.pk)]]
    assert message.next_attempt_at is not None
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=20)
