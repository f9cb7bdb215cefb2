"""Opens and clicks: events with first/unique/machine flags, report counters, bad tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences.services.profiles import profile_delete
from delivery.models import Message, MessageEvent, WebhookDelivery
from delivery.tracking.tokens import Purpose, token_make
from tests.delivery.tracking_helpers import (
    TRACKED_CONTENT,
    engagement,
    html_of,
    last_email,
    paths,
    send_email,
)
from tests.delivery.webhook_helpers import endpoint_for

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"


@pytest.fixture
def sent(live_campaign, send_inline):
    """A sent message of a campaign tracking opens and clicks, sent a minute ago:
    (message, click paths in link order, pixel path)."""
    campaign = live_campaign(create_new_profiles=True, content=TRACKED_CONTENT)
    message = send_email(campaign)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=1))
    message.refresh_from_db()
    html = html_of(last_email())
    [pixel] = paths(html, "/t/o/")
    return message, paths(html, "/t/c/"), pixel


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """Each captured statement's first three words, savepoints left out."""
    return [
        " ".join(q["sql"].split()[:3])
        for q in queries.captured_queries
        if "SAVEPOINT" not in q["sql"]
    ]


def _events(message: Message) -> list[tuple[str, int, bool, bool, str, str, str]]:
    return list(
        MessageEvent.objects.filter(message=message)
        .order_by("id")
        .values_list("type", "link", "first", "machine", "url", "ip", "user_agent")
    )


def test_opens_are_recorded_with_unique_counts_and_a_no_cache_gif(sent) -> None:
    # given a sent message and its pixel
    message, _clicks, pixel = sent
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.77")

    # when it is loaded twice
    first = client.get(pixel)
    again = client.get(pixel)

    # then each answer is the 1x1 GIF, never cached
    for response in (first, again):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content.startswith(b"GIF89a") and len(response.content) == 42
        assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
        assert response.cookies == {}
    # and two opens were recorded, the first one unique, the network truncated to /24
    assert _events(message) == [
        ("opened", 0, True, False, "", "203.0.113.0/24", BROWSER),
        ("opened", 0, False, False, "", "203.0.113.0/24", BROWSER),
    ]
    assert engagement(message.campaign) == {("opened", ""): 2, ("opened_unique", ""): 1}


def test_apple_mail_privacy_protection_opens_are_counted_apart(sent) -> None:
    # given the Apple proxy's fetch (Apple's network), its bare agent elsewhere, then a person
    message, _clicks, pixel = sent

    # when each loads the pixel
    Client(HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.101.4").get(pixel)
    Client(HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="198.51.100.9").get(pixel)
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="2001:db8:aa:bb::1").get(pixel)

    # then the proxy's opens are machine-made, and the person's open is still unique
    assert _events(message) == [
        ("opened", 0, True, True, "", "17.58.101.0/24", "Mozilla/5.0"),
        ("opened", 0, False, True, "", "198.51.100.0/24", "Mozilla/5.0"),
        ("opened", 0, True, False, "", "2001:db8:aa::/48", BROWSER),
    ]
    assert engagement(message.campaign) == {
        ("opened_machine", ""): 2,
        ("opened_machine_unique", ""): 1,
        ("opened", ""): 1,
        ("opened_unique", ""): 1,
    }


def test_clicks_redirect_and_count_per_link_unique_and_per_message(sent) -> None:
    # given a sent message with two tracked links
    message, (new, sale), _pixel = sent
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.77")

    # when a person clicks the first link twice, then the second
    responses = [client.get(new), client.get(new), client.get(sale)]

    # then each redirects to the target the message held
    assert [(r.status_code, r["Location"]) for r in responses] == [
        (302, "https://shop.example/new?id=7&utm=mail#top"),
        (302, "https://shop.example/new?id=7&utm=mail#top"),
        (302, "https://shop.example/sale"),
    ]
    assert all(r.cookies == {} and r["Referrer-Policy"] == "no-referrer" for r in responses)
    # and the clicks are events: the first of each link is first
    new_url, sale_url = message.links
    assert _events(message) == [
        ("clicked", 1, True, False, new_url, "203.0.113.0/24", BROWSER),
        ("clicked", 1, False, False, new_url, "203.0.113.0/24", BROWSER),
        ("clicked", 2, True, False, sale_url, "203.0.113.0/24", BROWSER),
    ]
    # and counted: per link, unique per link, and the message once
    assert engagement(message.campaign) == {
        ("clicked", "1"): 2,
        ("clicked_unique", "1"): 1,
        ("clicked", "2"): 1,
        ("clicked_unique", "2"): 1,
        ("clicked_messages", ""): 1,
    }
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_scanner_clicks_are_machine_made_and_do_not_count_as_the_first_click(sent) -> None:
    # given a sent message: a security scanner follows a link, then the person clicks it
    message, (new, _sale), _pixel = sent

    # when both click
    Client(HTTP_USER_AGENT=SCANNER, REMOTE_ADDR="198.51.100.9").get(new)
    Client(HTTP_USER_AGENT="", REMOTE_ADDR="198.51.100.9").get(new)
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.77").get(new)

    # then the scanner's clicks are machine-made, and the person's is the message's first
    assert [(e[0], e[1], e[2], e[3]) for e in _events(message)] == [
        ("clicked", 1, True, True),
        ("clicked", 1, False, True),
        ("clicked", 1, True, False),
    ]
    assert engagement(message.campaign) == {
        ("clicked_machine", "1"): 2,
        ("clicked_machine_unique", "1"): 1,
        ("clicked", "1"): 1,
        ("clicked_unique", "1"): 1,
        ("clicked_messages", ""): 1,
    }


def test_a_click_right_after_sending_is_machine_made(sent) -> None:
    # given a message sent a second ago
    message, (new, _sale), _pixel = sent
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(seconds=1))

    # when a browser-looking client follows a link at once
    response = Client(HTTP_USER_AGENT=BROWSER).get(new)

    # then it still goes where it should, but is not counted as a person's click
    assert response.status_code == 302
    assert engagement(message.campaign) == {
        ("clicked_machine", "1"): 1,
        ("clicked_machine_unique", "1"): 1,
    }
    message.refresh_from_db()
    assert message.clicked_at is None


def test_a_head_request_redirects_without_recording(sent) -> None:
    message, (new, _sale), pixel = sent

    assert Client().head(new).status_code == 302
    assert Client().head(pixel).status_code == 200
    assert _events(message) == []


def test_the_redirect_costs_one_query_to_find_and_three_statements_to_record(sent) -> None:
    # given a sent message whose link was clicked before
    _message, (new, _sale), _pixel = sent
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.get(new)

    # when it is clicked again
    with CaptureQueriesContext(connection) as queries:
        response = client.get(new)

    # then one SELECT finds the message with its execution (a join); recording is the
    # event insert as the first of its kind (refused by the partial unique index), the
    # insert as a repeat, and the counters' upsert. No UPDATE of the message: a repeated
    # click on a link cannot be the message's first. The rest are savepoints (the outer
    # one is BEGIN/COMMIT outside a test's transaction).
    assert response.status_code == 302
    statements = _statements(queries)
    assert statements == [
        'SELECT "delivery_message"."id", "delivery_message"."execution_id",',
        'INSERT INTO "delivery_messageevent"',
        'INSERT INTO "delivery_messageevent"',
        'INSERT INTO "delivery_reportcounter"',
    ]
    assert len(queries.captured_queries) == 11


def test_a_tampered_token_gets_the_plain_404_page_and_records_nothing(sent) -> None:
    # given a click token with one character of its signature changed
    message, (new, _sale), _pixel = sent
    tampered = new[:-1] + ("A" if new[-1] != "A" else "B")

    # when it is followed
    response = Client().get(tampered)

    # then the plain "link does not work" page, not a 500 or the debug page
    assert response.status_code == 404
    assert "delivery/link_not_found.html" in [t.name for t in response.templates]
    assert b"This link does not work" in response.content
    assert _events(message) == []


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "....",
        "AAAA.BBBB",
        "%00",
        "é" * 10,
        "A" * 400,
        "AaIluLUPcKS4-Ug6nD5S7gAA.",
        ".1uTfyD3GOMA10Q7k7PZk3eCsOjQ-VynhwYGPS0e0eLs",
        "!!!!.!!!!",
    ],
)
@override_settings(DEBUG=True)
def test_bad_tokens_of_every_shape_never_give_a_500(sent, token) -> None:
    message, _clicks, _pixel = sent
    client = Client(raise_request_exception=True)

    assert client.get(f"/t/c/{token}").status_code == 404
    assert client.get(f"/u/{token}").status_code == 404
    assert client.get(f"/s/{token}").status_code == 404
    pixel = client.get(f"/t/o/{token}")
    assert (pixel.status_code, pixel["Content-Type"]) == (200, "image/gif")
    assert _events(message) == []


def test_valid_tokens_for_another_purpose_message_or_link_are_refused(sent) -> None:
    # given tokens signed by Clarion but for the wrong purpose, message or link number
    message, _clicks, _pixel = sent
    unknown = Message(pk=message.pk.__class__(int=message.pk.int + 1)).pk
    wrong = [
        f"/t/c/{token_make(Purpose.OPEN, message.pk, 1)}",  # an open token as a click
        f"/t/c/{token_make(Purpose.UNSUBSCRIBE, message.pk, 1)}",
        f"/t/c/{token_make(Purpose.CLICK, message.pk, 0)}",  # link 0 is the pixel
        f"/t/c/{token_make(Purpose.CLICK, message.pk, 3)}",  # the message has two links
        f"/t/c/{token_make(Purpose.CLICK, unknown, 1)}",
        f"/u/{token_make(Purpose.CLICK, message.pk, 0)}",
    ]

    # when each is followed, then each is a 404 and nothing is recorded
    assert [Client().get(path).status_code for path in wrong] == [404] * 6
    assert Client().get(f"/t/o/{token_make(Purpose.CLICK, message.pk, 0)}").status_code == 200
    assert _events(message) == []


def test_test_sends_are_tracked_but_never_counted(live_campaign, send_inline) -> None:
    # given a test send of a campaign (an execution marked is_test)
    from core.actors import Actor
    from delivery.services.proofs import campaign_send_test
    from tests.factories import UserFactory

    campaign = live_campaign(content=TRACKED_CONTENT)
    user = UserFactory.create(is_superuser=True)
    message = campaign_send_test(
        campaign=campaign, address="me@example.com", actor=Actor(user=user)
    )
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=1))
    html = html_of(last_email())

    # when it is opened and clicked
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.get(paths(html, "/t/o/")[0])
    assert client.get(paths(html, "/t/c/")[0]).status_code == 302

    # then both events exist, and no counter moved
    assert [(e[0], e[2]) for e in _events(message)] == [("opened", True), ("clicked", True)]
    assert engagement(campaign) == {}


@override_settings(CLARION_CLIENT_IP_HEADER="X-Forwarded-For")
def test_the_client_address_comes_from_the_trusted_proxy_header_when_set(sent) -> None:
    message, _clicks, pixel = sent

    Client(
        HTTP_USER_AGENT=BROWSER,
        HTTP_X_FORWARDED_FOR="17.0.0.1, 192.0.2.150",
        REMOTE_ADDR="10.0.0.1",
    ).get(pixel)

    # the last address (the operator's proxy's view), not the client's claim nor the proxy
    assert [(e[5], e[3]) for e in _events(message)] == [("192.0.2.0/24", False)]


def test_erasing_the_profile_forgets_the_tracked_links_who_clicked_and_webhook_data(
    sent,
) -> None:
    # given a sent message whose personalised link was clicked, with a webhook for clicks
    message, (new, _sale), pixel = sent
    endpoint_for("https://hooks.example.com/clarion", types=["clicked"])
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7").get(new)
    assert message.profile is not None
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.payload["data"]["userId"] == "ana@example.com"

    # when its profile is erased
    profile_delete(profile=message.profile)

    # then the targets are gone from the message and its events, so is who clicked, and
    # the link is dead
    message.refresh_from_db()
    assert message.links == []
    assert list(
        MessageEvent.objects.filter(message=message).values_list(
            "type", "link", "url", "user_agent", "ip"
        )
    ) == [("clicked", 1, "", "", "")]
    assert Client(HTTP_USER_AGENT=BROWSER).get(new).status_code == 404
    # the webhook event (sent or still to send) no longer names the person or the link
    delivery.refresh_from_db()
    assert (delivery.payload["data"]["userId"], delivery.payload["data"]["url"]) == ("", "")
    assert delivery.payload["data"]["messageId"] == str(message.pk)
    # and a later open records nothing (the pixel still answers)
    assert Client(HTTP_USER_AGENT=BROWSER).get(pixel).status_code == 200
    assert MessageEvent.objects.filter(message=message, type="opened").count() == 0


def test_a_click_with_a_webhook_endpoint_reads_no_deferred_field(sent) -> None:
    # given a sent message clicked before, and an endpoint for clicks (its list cached)
    _message, (new, _sale), _pixel = sent
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.get(new)
    endpoint_for("https://hooks.example.com/clarion", types=["clicked"])
    client.get(new)

    # when it is clicked again
    with CaptureQueriesContext(connection) as queries:
        response = client.get(new)

    # then the webhook event needs only the execution's request id and the delivery
    # insert: every message field the payload carries came with the first SELECT
    assert response.status_code == 302
    statements = _statements(queries)
    assert statements == [
        'SELECT "delivery_message"."id", "delivery_message"."execution_id",',
        'INSERT INTO "delivery_messageevent"',
        'INSERT INTO "delivery_messageevent"',
        'INSERT INTO "delivery_reportcounter"',
        'SELECT "delivery_execution"."id" AS',
        'INSERT INTO "delivery_webhookdelivery"',
    ]


def test_a_click_the_database_cannot_record_still_redirects(sent, monkeypatch) -> None:
    # given a database that refuses the write (locked, or gone for a moment)
    _message, (new, _sale), pixel = sent

    def locked(**_kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr("delivery.tracking.views.message_click_record", locked)
    monkeypatch.setattr("delivery.tracking.views.message_open_record", locked)

    # when the link is followed and the pixel loaded
    click = Client(HTTP_USER_AGENT=BROWSER).get(new)
    image = Client(HTTP_USER_AGENT=BROWSER).get(pixel)

    # then the person still gets where the link goes, and the mail client its image
    assert (click.status_code, click["Location"]) == (
        302,
        "https://shop.example/new?id=7&utm=mail#top",
    )
    assert (image.status_code, image["Content-Type"]) == (200, "image/gif")
