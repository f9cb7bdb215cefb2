"""A message's page (attempts, warnings) and its "view rendered message" page."""

from __future__ import annotations

import html
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from audiences.models import IdentityNamespace
from core.formats import datetime_html
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.registry import transports_close
from delivery.models import Message, MessageAttempt
from delivery.services.sending import message_send_batch
from tests.delivery.admin_helpers import recipient, trigger
from tests.factories import PushConfigurationFactory, SmsConfigurationFactory

pytestmark = pytest.mark.django_db


class FlakyServer:
    """An SMTP server on loopback answering DATA with the given replies, then 250."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply.startswith("250"):
            self.received.append(envelope)
        return reply


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def flaky_smtp(settings: SettingsWrapper) -> Iterator[FlakyServer]:
    handler = FlakyServer(["451 4.3.0 Try again later"])
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    transports_close()  # a transport made for another test's backend is not reused
    yield handler
    transports_close()
    controller.stop()


def _page(client: Client, message: Message) -> str:
    response = client.get(reverse("admin:delivery_message_change", args=[message.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _rendered(client: Client, message: Message) -> Any:
    response = client.get(reverse("admin:delivery_message_rendered", args=[message.pk]))
    assert response.status_code == 200
    return response


def test_a_message_shows_each_attempt_and_its_empty_variables(
    admin_client: Client,
    api_client,
    live_campaign,
    send_inline,
    flaky_smtp: FlakyServer,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    retries: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "delivery.tasks.message_send_task.apply_async",
        lambda args, countdown: retries.append((args, countdown)),
    )
    campaign = live_campaign(create_new_profiles=True)
    # No firstName: the subject's variable renders empty, a warning on the message.
    trigger(
        api_client(EXECUTIONS_TRIGGER),
        django_capture_on_commit_callbacks,
        campaign,
        [recipient("ana@example.com", context={"product": {"name": "Jackets"}})],
        request_id="order-9",
    )
    message = Message.objects.get()
    assert message.status == "queued" and message.reason == "smtp_451"
    assert [args for args, _countdown in retries] == [([str(message.pk)],)]
    # The retry comes due; the server now answers 250.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    message_send_batch(message_ids=[str(message.pk)])

    page = _page(admin_client, message)

    first, second = MessageAttempt.objects.filter(message=message).order_by("number")
    assert (
        f'<tr class="attempt-retry"><td>1</td><td>{datetime_html(first.at)}</td>'
        "<td>Failed, will retry</td><td>smtp_451</td><td>451 4.3.0 Try again later</td></tr>"
    ) in page
    assert (
        f'<tr class="attempt-sent"><td>2</td><td>{datetime_html(second.at)}</td>'
        f"<td>Sent</td><td>—</td><td>{second.provider_message_id}</td></tr>"
    ) in page
    assert (
        '<ul class="clarion-warnings"><li>{{ profile.person.name.firstName }} rendered empty '
        "in /content/en/subject.</li></ul>"
    ) in page
    assert f'href="/admin/delivery/message/{message.pk}/rendered/"' in page
    profile_url = f"/admin/audiences/profile/{message.profile_id}/change/"
    assert f'<a href="{profile_url}">email:ana@example.com</a>' in page
    assert "View rendered message" in page
    assert len(flaky_smtp.received) == 1


def test_the_rendered_message_shows_its_parts_and_keeps_the_html_in_a_sandbox(
    admin_client: Client,
    api_client,
    live_campaign,
    send_inline,
    django_capture_on_commit_callbacks,
) -> None:
    campaign = live_campaign(
        create_new_profiles=True,
        content={
            "en": {
                "subject": "Thanks {{ profile.person.name.firstName }}",
                "preheader": "Your {{ context.product.name }}",
                "html": "<p>{{ context.product.name }}</p><script>document.title='x'</script>",
                "text": "{{ context.product.name }}",
            }
        },
    )
    trigger(
        api_client(EXECUTIONS_TRIGGER),
        django_capture_on_commit_callbacks,
        campaign,
        [
            recipient(
                "ana@example.com",
                profile={"person": {"name": {"firstName": "Ana"}}},
                context={"product": {"name": "<b>Jackets</b>"}},
            )
        ],
        request_id="order-10",
    )
    message = Message.objects.get()

    response = _rendered(admin_client, message)

    raw = response.content.decode()
    assert [(p["name"], p["value"]) for p in response.context["parts"]] == [
        ("subject", "Thanks Ana"),
        ("preheader", "Your <b>Jackets</b>"),
        ("text", "<b>Jackets</b>"),
        ("html", "<p>&lt;b&gt;Jackets&lt;/b&gt;</p><script>document.title='x'</script>"),
    ]
    assert response.context["locale"] == "en"
    # The marketer's HTML is only ever an escaped attribute of a sandboxed frame.
    assert (
        '<iframe sandbox="" class="clarion-rendered-frame" title="HTML" srcdoc="&lt;p&gt;'
        "&amp;lt;b&amp;gt;Jackets&amp;lt;/b&amp;gt;&lt;/p&gt;&lt;script&gt;"
        'document.title=&#x27;x&#x27;&lt;/script&gt;"></iframe>'
    ) in raw
    assert "<script>document.title" not in raw
    assert "<b>Jackets</b>" not in raw
    assert "<pre>Thanks Ana</pre>" in raw


def test_a_message_that_does_not_render_is_explained_in_words(
    admin_client: Client,
    api_client,
    live_campaign,
    send_inline,
    django_capture_on_commit_callbacks,
) -> None:
    campaign = live_campaign(
        create_new_profiles=True,
        content={"en": {"subject": "{{ 10 | divided_by: context.n }}", "html": "x", "text": "x"}},
    )
    trigger(
        api_client(EXECUTIONS_TRIGGER),
        django_capture_on_commit_callbacks,
        campaign,
        [recipient("ana@example.com", context={"n": 0})],
        request_id="order-11",
    )
    message = Message.objects.get()
    assert (message.status, message.reason) == ("failed", "render_failed")

    response = _rendered(admin_client, message)
    page = _page(admin_client, message)

    text = html.unescape(response.content.decode())
    assert response.context["problem"] == "divided_by: can't divide by 0 (line 1, column 9)"
    assert "This message does not render" in text
    assert "<li>/content/en/subject: divided_by: can't divide by 0 (line 1, column 9)</li>" in text
    assert response.context["parts"] == []
    assert "<td>render_failed</td><td>divided_by: can't divide by 0" in page


def test_sms_and_push_messages_render_their_own_parts(
    admin_client: Client,
    api_client,
    live_campaign,
    published,
    django_capture_on_commit_callbacks,
) -> None:
    client = api_client(EXECUTIONS_TRIGGER)
    phone = IdentityNamespace.objects.get(code="phone")
    sms = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=phone,
        create_new_profiles=True,
        content={"en": {"body": "Code {{ context.code }}"}},
    )
    push = live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        create_new_profiles=True,
        content={
            "en": {
                "title": "Hi {{ profile.name }}",
                "body": "Your order shipped",
                "deep_link": "https://shop.example/o/1",
                "image_url": "",
            }
        },
    )
    trigger(
        client,
        django_capture_on_commit_callbacks,
        sms,
        [{"type": "aep", "namespace": "phone", "userId": "+14165550100"}],
        request_id="sms-1",
        context={"code": "4321"},
    )
    push_info = {"appID": "com.example.shop", "platform": "android", "token": "tok-1"}
    trigger(
        client,
        django_capture_on_commit_callbacks,
        push,
        [
            recipient(
                "ana@example.com", channelData={"pushInfo": push_info}, profile={"name": "Ana"}
            )
        ],
        request_id="push-1",
    )

    sms_parts = _rendered(admin_client, Message.objects.get(channel="sms")).context["parts"]
    push_parts = _rendered(admin_client, Message.objects.get(channel="push")).context["parts"]

    assert [(p["name"], p["value"]) for p in sms_parts] == [("body", "Code 4321")]
    assert [(p["name"], p["value"]) for p in push_parts] == [
        ("title", "Hi Ana"),
        ("body", "Your order shipped"),
        ("deepLink", "https://shop.example/o/1"),
        ("imageUrl", ""),
    ]
    assert Message.objects.filter(status="queued").count() == 2  # nothing was sent


def test_a_message_of_a_hidden_campaign_has_no_rendered_view(client: Client) -> None:
    from tests.delivery.admin_helpers import staff_with

    client.force_login(staff_with("view_message"))

    response = client.get(
        reverse("admin:delivery_message_rendered", args=["9b2f0a56-0000-4000-8000-000000000000"])
    )

    assert response.status_code == 404
