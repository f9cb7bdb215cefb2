"""Unsubscribe: the landing page, RFC 8058 one-click, subscribing again, and the next send."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings

from audiences.models import Consent, Suppression
from campaigns.preview import campaign_preview
from core.management.commands.compile_translations import po_compile
from delivery.models import Message, MessageEvent
from delivery.services.subscriptions import address_resubscribe, address_unsubscribe
from tests.delivery.sending_helpers import fan_out, person, static_audience
from tests.delivery.tracking_helpers import TRACKED_CONTENT, counters, last_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(live_campaign, send_inline):
    """A marketing campaign sent to Ana (opted in): (campaign, message, unsubscribe path)."""
    ana = person("ana@example.com", consent={"email": "opted_in"})
    campaign = live_campaign(
        category="marketing", audience=static_audience("Ana", [ana]), content=TRACKED_CONTENT
    )
    execution = fan_out(campaign)  # sent inline
    message = Message.objects.get(execution=execution)
    header = last_email().message()["List-Unsubscribe"]
    return campaign, message, urlsplit(header.strip("<>")).path


def _state(address: str = "ana@example.com") -> tuple[list[str], list[str]]:
    suppressed = list(
        Suppression.objects.filter(channel="email", address=address).values_list(
            "reason", flat=True
        )
    )
    consents = list(
        Consent.objects.filter(profile__email_address=address, channel="email").values_list(
            "status", flat=True
        )
    )
    return suppressed, consents


def test_the_landing_page_asks_first_in_the_recipients_locale(marketing) -> None:
    # given the unsubscribe link of a message sent in a Traditional Chinese locale
    _campaign, message, path = marketing
    Message.objects.filter(pk=message.pk).update(locale="zh-TW")

    # when a person (or a link scanner) opens it
    response = Client(enforce_csrf_checks=True).get(path)

    # then a page asks, in the recipient's language, and nothing changed yet
    assert response.status_code == 200
    assert b'<html lang="zh-hant">' in response.content
    assert b'name="action" value="unsubscribe"' in response.content
    assert b"ana@example.com" in response.content
    assert response.cookies == {}
    assert _state() == ([], ["opted_in"])
    assert not MessageEvent.objects.filter(type="unsubscribed").exists()


def test_one_click_post_unsubscribes_without_cookies_and_the_next_send_is_excluded(
    marketing, send_inline
) -> None:
    # given a marketing message's List-Unsubscribe URL
    campaign, message, path = marketing

    # when a mail client POSTs RFC 8058's body, with no cookie and no CSRF token
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    # then it is answered 200 without setting a cookie
    assert response.status_code == 200
    assert response.cookies == {}
    assert b'name="action" value="resubscribe"' in response.content
    # and the address is suppressed, the consent withdrawn, the event counted once
    assert _state() == (["unsubscribed"], ["opted_out"])
    assert list(
        MessageEvent.objects.filter(message=message).values_list("type", "reason", "first")
    ) == [("unsubscribed", "one_click", True)]
    assert counters(campaign)[("unsubscribed", "")] == 1

    # when the campaign is sent again
    again = fan_out(campaign)

    # then Ana's message is excluded as suppressed
    assert list(Message.objects.filter(execution=again).values_list("status", "reason")) == [
        ("excluded", "suppressed")
    ]


def test_the_page_unsubscribes_then_subscribes_again(marketing) -> None:
    # given the landing page
    _campaign, message, path = marketing
    client = Client(enforce_csrf_checks=True)

    # when its button is pressed
    unsubscribed = client.post(path, {"action": "unsubscribe"})

    # then it confirms, offering to subscribe again
    assert unsubscribed.status_code == 200
    assert b"You are unsubscribed" in unsubscribed.content
    assert _state() == (["unsubscribed"], ["opted_out"])

    # when that button is pressed
    resubscribed = client.post(path, {"action": "resubscribe"})

    # then the address is back in, and both steps are events
    assert b"You are subscribed again" in resubscribed.content
    assert _state() == ([], ["opted_in"])
    assert list(
        MessageEvent.objects.filter(message=message).order_by("id").values_list("type", "reason")
    ) == [("unsubscribed", "link"), ("resubscribed", "link")]
    assert resubscribed.cookies == {}


def test_a_test_sends_page_changes_nothing(live_campaign, send_inline) -> None:
    # given a test send of a marketing campaign to a colleague's address
    from core.actors import Actor
    from delivery.services.proofs import campaign_send_test
    from tests.factories import UserFactory

    ana = person("ana@example.com", consent={"email": "opted_in"})
    campaign = live_campaign(
        category="marketing", audience=static_audience("Ana", [ana]), content=TRACKED_CONTENT
    )
    user = UserFactory.create(is_superuser=True)
    campaign_send_test(campaign=campaign, address="ana@example.com", actor=Actor(user=user))
    path = urlsplit(last_email().message()["List-Unsubscribe"].strip("<>")).path

    # when its unsubscribe link is used
    response = Client().post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    # then the page says so, and nothing changed
    assert response.status_code == 200
    assert b"This was a test message: nothing was changed." in response.content
    assert _state() == ([], ["opted_in"])
    assert not MessageEvent.objects.exists()


def test_previews_show_the_example_unsubscribe_page(live_campaign) -> None:
    # given a campaign using {{ unsubscribe_url }}
    campaign = live_campaign(content=TRACKED_CONTENT)

    # when previewed
    rendered = campaign_preview(campaign=campaign, locale="en", profile={}, context={})

    # then the variable is the example page, which answers without a message behind it
    assert '<a href="http://localhost:8000/u/preview">Unsubscribe</a>' in rendered.parts["html"]
    assert [e.variable for e in rendered.empty_variables] == ["profile.name"]
    page = Client().get("/u/preview")
    assert page.status_code == 200
    assert b"This is an example." in page.content


def test_an_erased_recipients_link_no_longer_works(marketing) -> None:
    _campaign, message, path = marketing
    Message.objects.filter(pk=message.pk).update(address="")

    response = Client().post(path, {"action": "unsubscribe"})

    assert response.status_code == 404
    assert _state() == ([], ["opted_in"])


def test_the_page_speaks_traditional_chinese_from_the_projects_catalogue(
    marketing, tmp_path
) -> None:
    # given the project's zh_Hant catalogue, compiled as `make install` does
    source = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
    target = tmp_path / "zh_Hant" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po_compile(source, target / "django.mo")
    _campaign, message, path = marketing
    Message.objects.filter(pk=message.pk).update(locale="zh-TW")

    # when a recipient of a message in zh-TW opens the page and unsubscribes
    with override_settings(LOCALE_PATHS=[tmp_path]):
        asked = Client().get(path)
        done = Client().post(path, {"action": "unsubscribe"})

    # then both pages are in Traditional Chinese
    assert "要取消訂閱嗎？" in asked.content.decode()
    assert (
        "按下按鈕，即停止寄送行銷訊息至 <strong>ana@example.com</strong>。"
        in asked.content.decode()
    )
    assert "您已取消訂閱" in done.content.decode()
    assert "重新訂閱" in done.content.decode()


def test_an_empty_address_changes_no_ones_consent() -> None:
    # given two profiles without a mobile number, opted in to SMS and email
    for name in ("ana", "bo"):
        person(f"{name}@example.com", consent={"email": "opted_in", "sms": "opted_in"})

    # when an erased message's (empty) address is unsubscribed, or subscribed again
    stopped = address_unsubscribe(channel="sms", address="", source="sms_stop")
    started = address_resubscribe(channel="email", address="", source="link")

    # then nothing changed for anyone
    assert (stopped, started) == (False, False)
    assert set(Consent.objects.values_list("status", flat=True)) == {"opted_in"}
    assert not Suppression.objects.exists()
