"""In a real browser: a message's page, its rendered view, the profile's messages, a send test."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from audiences.models import Identity
from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from core.scopes import EXECUTIONS_TRIGGER
from delivery.channels.registry import transports_close
from delivery.models import Message
from delivery.services.sending import message_send_batch
from tests.conftest import ApiClientFactory
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_open_a_message_its_rendered_view_the_profile_and_send_a_test(
    page: Page,
    live_server: LiveServer,
    api_client: ApiClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Send tasks run inline, in the process that publishes them (no broker in this test).
    monkeypatch.setattr(
        "delivery.enqueue._publish", lambda ids: message_send_batch(message_ids=ids)
    )
    mail.outbox.clear()
    User.objects.create_superuser("noor", "noor@example.com", "delivery-pass-1")
    campaign = CampaignFactory.create(
        name="Order shipped",
        create_new_profiles=True,
        content={
            "en": {
                "subject": "Hi {{ profile.firstName }}, it shipped",
                "preheader": "Order {{ context.orderId }}",
                "html": (
                    '<h1 style="font-family:sans-serif">Order {{ context.orderId }}</h1>'
                    "<p>{{ context.nickname }} it is on its way.</p>"
                    "<script>document.body.innerHTML = 'scripts run'</script>"
                ),
                "text": "Order {{ context.orderId }} is on its way.",
            }
        },
    )
    campaign = campaign_activate(campaign=campaign, actor=Actor())
    # Autocommit: the send runs on commit, inline, before the response.
    response = api_client(EXECUTIONS_TRIGGER).post(
        "/api/v1/executions/unitary",
        {
            "requestId": "order-1042",
            "campaignId": str(campaign.pk),
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": "ana@example.com",
                    "profile": {"firstName": "Ana"},
                    "context": {"orderId": "A-1042"},
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    message = Message.objects.get()
    assert message.status == "sent"
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "noor")
    page.fill("#id_password", "delivery-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("noor")

    # The message list, searched by request id; then the message's page.
    page.goto(f"{live_server.url}/admin/delivery/message/")
    page.fill("#searchbar", "order-1042")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    _screenshot(page, "delivery-message-list.png")
    page.click("#result_list tbody tr th a")
    expect(page.locator("table.clarion-attempts tr.attempt-sent")).to_contain_text("Sent")
    expect(page.locator("ul.clarion-warnings li")).to_have_text(
        "{{ context.nickname }} rendered empty in /content/en/html."
    )
    _screenshot(page, "delivery-message.png")

    # Its execution: the counts by status, each a link to the messages.
    page.click(".field-execution_link a")
    expect(page.locator("table.clarion-counts tr.count-sent td")).to_have_text("1")
    _screenshot(page, "delivery-execution.png")
    page.go_back()

    # View rendered message: the parts, and the HTML in a sandbox where scripts do not run.
    page.click("a.clarion-rendered-link")
    expect(page.locator("dd[data-part=subject] pre")).to_have_text("Hi Ana, it shipped")
    expect(page.locator("dd[data-part=preheader] pre")).to_have_text("Order A-1042")
    frame = page.frame_locator("iframe.clarion-rendered-frame")
    expect(frame.locator("h1")).to_have_text("Order A-1042")
    expect(frame.locator("body")).not_to_contain_text("scripts run")
    _screenshot(page, "delivery-message-rendered.png")

    # The profile's page lists the message.
    profile = Identity.objects.get(value="ana@example.com").profile
    page.goto(f"{live_server.url}/admin/audiences/profile/{profile.pk}/change/")
    rows = page.locator("#clarion-profile-messages tr.clarion-profile-message")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Order shipped")
    page.locator("#clarion-profile-messages").screenshot(
        path=str(SCREENSHOTS / "delivery-profile-messages.png")
    )

    # Send test from the campaign's page: a bad address first, then a good one.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("a.clarion-send-test-link")
    page.fill("#id_address", "ana at example")
    page.click("input[type=submit]")
    expect(page.locator(".field-address .errorlist")).to_contain_text(
        "is not a valid email address"
    )
    page.fill("#id_address", "Bo@Example.com")
    page.fill("#id_profile", '{"firstName": "Bo"}')
    page.fill("#id_context", '{"orderId": "T-1", "nickname": "Bo,"}')
    page.click("input[type=submit]")
    expect(page.locator("#clarion-send-result")).to_contain_text("Sent to bo@example.com.")
    _screenshot(page, "delivery-send-test.png")
    assert [email.subject for email in mail.outbox] == ["Hi Ana, it shipped", "Hi Bo, it shipped"]
    transports_close()
