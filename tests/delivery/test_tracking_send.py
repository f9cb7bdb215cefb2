"""Tracking at send time: the email channel's real message, SMS short links, headers, outbox."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from audiences.models import IdentityNamespace
from delivery.calls import TriggerRecipient
from delivery.channels.base import Outgoing
from delivery.channels.email import email_build
from delivery.channels.email_outbox import OutboxEmailBackend
from delivery.models import ShortLink
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import (
    accept_unitary,
    fan_out,
    person,
    static_audience,
    use_fake_transport,
)
from tests.delivery.tracking_helpers import (
    TRACKED_CONTENT,
    html_of,
    last_email,
    paths,
    send_email,
)
from tests.factories import SmsConfigurationFactory

pytestmark = pytest.mark.django_db


def _phone(number: str, **fields: Any) -> TriggerRecipient:
    return TriggerRecipient(type="aep", namespace="phone", user_id=number, **fields)


def test_a_real_email_has_its_links_rewritten_and_the_pixel(live_campaign, send_inline) -> None:
    # given a campaign tracking opens and clicks
    campaign = live_campaign(create_new_profiles=True, content=TRACKED_CONTENT)

    # when the email channel sends a message
    message = send_email(campaign, profile={"name": "Ana"})

    # then the HTML's http(s) links go through /t/c/, the pixel ends the body, mailto stays
    email = last_email()
    html = html_of(email)
    clicks = paths(html, "/t/c/")
    assert len(clicks) == 2
    assert 'href="mailto:help@shop.example"' in html
    [pixel] = paths(html, "/t/o/")
    assert re.search(r'<img src="http://localhost:8000/t/o/[^"]+" width="1" height="1"', html)
    assert html.index("/t/o/") < html.index("</body></html>")
    # and the text part's link is the HTML's first link (one target, one link number)
    assert paths(str(email.body), "/t/c/") == clicks[:1]
    # and the targets are stored on the message, entities decoded, in link order
    assert message.links == [
        "https://shop.example/new?id=7&utm=mail#top",
        "https://shop.example/sale",
    ]
    # and the unsubscribe link is the signed /u/ link, never a tracked redirect
    [unsubscribe] = paths(html, "/u/")
    assert paths(str(email.body), "/u/") == [unsubscribe]
    # and every tracked URL works
    client = Client()
    assert client.get(clicks[1])["Location"] == "https://shop.example/sale"
    assert client.get(pixel)["Content-Type"] == "image/gif"
    assert client.get(unsubscribe).status_code == 200


def test_nothing_is_rewritten_when_the_version_tracks_nothing(live_campaign, send_inline) -> None:
    # given a campaign with tracking off, and a marked link
    content = {
        "en": {
            "subject": "S",
            "html": '<a data-clarion-notrack href="https://a.example/">a</a><a href="https://b.example/">b</a>',
            "text": "https://b.example/",
        }
    }
    campaign = live_campaign(
        create_new_profiles=True, track_opens=False, track_clicks=False, content=content
    )

    # when sent
    message = send_email(campaign)

    # then the content is as rendered, but for the marker, and no link is stored
    email = last_email()
    assert html_of(email) == '<a href="https://a.example/">a</a><a href="https://b.example/">b</a>'
    assert email.body == "https://b.example/"
    assert message.links == []


def test_list_unsubscribe_headers_are_on_marketing_emails_only(live_campaign, send_inline) -> None:
    # given a marketing and a transactional campaign, and a consenting person
    ana = person("ana@example.com", consent={"email": "opted_in"})
    marketing = live_campaign(
        category="marketing", audience=static_audience("Ana", [ana]), content=TRACKED_CONTENT
    )
    transactional = live_campaign(content=TRACKED_CONTENT)

    # when each sends to the person
    fan_out(marketing)  # sent inline
    marketing_email = last_email()
    send_email(transactional)
    transactional_email = last_email()

    # then only the marketing email carries RFC 8058's headers, with the signed /u/ URL
    headers = marketing_email.message()
    [unsubscribe] = paths(html_of(marketing_email), "/u/")
    assert headers["List-Unsubscribe"] == f"<http://localhost:8000{unsubscribe}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe" not in transactional_email.message()
    assert "List-Unsubscribe-Post" not in transactional_email.message()


def test_the_tracking_domain_replaces_the_host(live_campaign, send_inline) -> None:
    # given a channel configuration with a tracking domain
    campaign = live_campaign(create_new_profiles=True, content=TRACKED_CONTENT)
    configuration = campaign.channel_configuration
    configuration.tracking_domain = "links.shop.example"
    configuration.save()
    campaign = live_campaign(
        create_new_profiles=True, content=TRACKED_CONTENT, channel_configuration=configuration
    )

    # when a message is sent
    send_email(campaign)

    # then every Clarion link uses it
    html = html_of(last_email())
    assert (
        re.findall(r'(?:href|src)="(http://[^/"]+)/(?:t|u)/', html, re.IGNORECASE)
        == ["http://links.shop.example"] * 4
    )


def test_sms_links_become_short_links_of_at_most_12_characters(live_campaign, monkeypatch) -> None:
    # given an SMS campaign tracking clicks, with two links (one twice)
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={
            "en": {
                "body": "Sale: https://shop.example/sale?c={{ context.c }} or https://shop.example/ or https://shop.example/"
            }
        },
    )
    [message] = accept_unitary(
        campaign,
        _phone("+14165550100", context={"c": "A&B"}),
    )

    # when sent
    message_send_batch(message_ids=[str(message.pk)])

    # then the body holds short links of 12 characters after the host, one per target
    body = transport.sent[0].parts["body"]
    short = re.findall(r"http://localhost:8000(/s/[A-Za-z0-9]+)", body)
    assert len(short) == 3 and short[1] == short[2] and short[0] != short[1]
    assert all(len(path) == 12 for path in short)
    assert (
        body
        == f"Sale: http://localhost:8000{short[0]} or http://localhost:8000{short[1]} or http://localhost:8000{short[1]}"
    )
    message.refresh_from_db()
    assert message.links == ["https://shop.example/sale?c=A&B", "https://shop.example/"]
    assert sorted(ShortLink.objects.values_list("link", flat=True)) == [1, 2]
    # and each redirects to its target
    response = Client().get(short[0])
    assert (response.status_code, response["Location"]) == (302, "https://shop.example/sale?c=A&B")
    assert Client().get(short[1])["Location"] == "https://shop.example/"


def test_a_short_code_already_taken_gets_a_new_one_in_the_body(live_campaign, monkeypatch) -> None:
    # given codes that come out as one already stored, then fresh ones
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "https://shop.example/"}},
    )
    [first, second] = accept_unitary(
        campaign,
        _phone("+14165550100"),
        _phone("+14165550101"),
    )
    codes = iter(["Taken0001", "Taken0001", "Fresh0002"])
    monkeypatch.setattr("delivery.tracking.content.short_code_new", lambda: next(codes))
    monkeypatch.setattr("delivery.services.tracking.short_code_new", lambda: next(codes))
    message_send_batch(message_ids=[str(first.pk)])

    # when the second message draws the taken code
    message_send_batch(message_ids=[str(second.pk)])

    # then it was sent with a new code, stored for it
    assert [o.parts["body"] for o in transport.sent] == [
        "http://localhost:8000/s/Taken0001",
        "http://localhost:8000/s/Fresh0002",
    ]
    assert dict(ShortLink.objects.values_list("code", "message_id")) == {
        "Taken0001": first.pk,
        "Fresh0002": second.pk,
    }


def test_the_outbox_writes_the_html_part_next_to_the_raw_message(tmp_path: Path) -> None:
    # given the make run outbox backend and a built email
    outgoing = Outgoing(
        message_id=uuid.UUID("01890000-0000-7000-8000-000000000001"),
        channel="email",
        address="ana@example.com",
        parts={
            "subject": "S",
            "html": "<p>Hi <a href='http://localhost:8000/t/c/x'>x</a></p>",
            "text": "Hi",
        },
        channel_settings={"fromEmail": "shop@example.com"},
    )
    email = email_build(outgoing)

    # when the backend sends it
    with override_settings(EMAIL_FILE_PATH=str(tmp_path)):
        backend = OutboxEmailBackend()
        assert backend.send_messages([email]) == 1

    # then the raw message is in a .log file and its HTML part alone in <id>.html
    [log] = tmp_path.glob("*.log")
    assert b"Subject: S" in log.read_bytes()
    html = tmp_path / "01890000-0000-7000-8000-000000000001.html"
    assert html.read_text() == "<p>Hi <a href='http://localhost:8000/t/c/x'>x</a></p>"
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".html", ".log"]
