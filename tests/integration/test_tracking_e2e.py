"""End to end, with real processes: a marketing email is opened, clicked and unsubscribed
from over HTTP; the next send to that address is excluded; a webhook receiver gets
every event signed; the campaign's report counts it all.

gunicorn and a Celery worker run as ``make run`` starts them, sending to a real SMTP
server; the links are followed from the email as the server received it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from core.apikeys import api_key_create
from core.scopes import CAMPAIGNS_READ
from delivery.models import Message, MessageEvent, ReportCounter
from tests.delivery.webhook_helpers import Receiver, endpoint_for
from tests.integration.conftest import ClarionFactory
from tests.integration.delivery_data import (
    HTTP_TIMEOUT,
    Api,
    live_campaign,
    opted_in_audience,
    trigger_secret,
)
from tests.integration.smtp_sink import SmtpSink
from tests.integration.stack import wait_for

pytestmark = pytest.mark.worker

ARRIVAL_SECONDS = 30
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126"
SALE = "https://shop.example/sale?utm=mail&x=1#top"
CONTENT = {
    "en": {
        "subject": "News for {{ profile.person.name.firstName }}",
        "preheader": "",
        "html": "<html><body><p>Hello {{ profile.person.name.firstName }}</p>"
        '<p><a href="https://shop.example/sale?utm=mail&amp;x=1#top">Sale</a></p>'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
        "text": "Sale: https://shop.example/sale?utm=mail&x=1#top\n"
        "Unsubscribe: {{ unsubscribe_url }}",
    }
}


def _html(email: Any) -> str:
    return str(
        next(p for p in email.iter_parts() if p.get_content_type() == "text/html").get_content()
    )


def _counters(campaign_id: Any) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for metric, key, count in ReportCounter.objects.filter(campaign_id=campaign_id).values_list(
        "metric", "key", "count"
    ):
        found[(metric, key)] = found.get((metric, key), 0) + count
    return found


def test_a_marketing_email_is_opened_clicked_unsubscribed_reported_and_told(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a tracked marketing campaign for one opted-in member, a webhook receiver
    # for every event, and Clarion's web and worker running
    receiver = Receiver()
    endpoint = endpoint_for(receiver.url)
    campaign = live_campaign(
        category="marketing",
        audience=opted_in_audience(1),
        content=CONTENT,
        track_opens=True,
        track_clicks=True,
    )
    running = clarion()
    public = f"http://127.0.0.1:{running.port}"
    running.extra_env.update(
        CLARION_PUBLIC_URL=public,
        CLARION_WEBHOOKS_ALLOW_PRIVATE="true",
        CLARION_MACHINE_CLICK_SECONDS="0",  # the test clicks at once, as a scanner would
    )
    running.start("web", "worker")
    api = Api(running.base_url, trigger_secret())
    browser = requests.Session()
    browser.headers["User-Agent"] = BROWSER

    try:
        # When the campaign is sent to its audience
        assert api.audience(campaign).status_code == 202
        assert smtp_sink.wait_until(lambda s: s.count() >= 1, ARRIVAL_SECONDS), running.outputs()
        [received] = smtp_sink.messages()
        email = received.message
        html = _html(email)
        message = Message.objects.get(pk=received.clarion_id)

        # Then its link, its pixel and its unsubscribe header point at Clarion, signed
        clicks = re.findall(rf'href="({re.escape(public)}/t/c/[^"]+)"', html)
        [pixel] = re.findall(rf'src="({re.escape(public)}/t/o/[^"]+)"', html)
        assert len(clicks) == 1  # the unsubscribe link is never click-tracked
        assert "shop.example" not in html
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        [unsubscribe] = re.findall(r"<([^>]+)>", email["List-Unsubscribe"])
        assert unsubscribe.startswith(f"{public}/u/")

        # When the recipient's mail client shows it and the recipient clicks
        opened = browser.get(pixel, timeout=HTTP_TIMEOUT)
        clicked = browser.get(clicks[0], allow_redirects=False, timeout=HTTP_TIMEOUT)

        # Then the pixel is an image and the click goes where the email said
        assert (opened.status_code, opened.headers["Content-Type"]) == (200, "image/gif")
        assert (clicked.status_code, clicked.headers["Location"]) == (302, SALE)

        # When the mail client unsubscribes in one click (RFC 8058), without cookies
        one_click = requests.post(
            unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=HTTP_TIMEOUT
        )
        assert one_click.status_code == 200
        assert "Set-Cookie" not in one_click.headers

        # Then the events are recorded and counted
        assert list(
            MessageEvent.objects.filter(message=message)
            .order_by("pk")
            .values_list("type", "link", "machine", "first")
        ) == [
            ("opened", 0, False, True),
            ("clicked", 1, False, True),
            ("unsubscribed", 0, False, True),
        ]
        counters = _counters(campaign.pk)
        for metric, key in [
            ("targeted", ""),
            ("sent", ""),
            ("opened", ""),
            ("opened_unique", ""),
            ("clicked", "1"),
            ("clicked_unique", "1"),
            ("clicked_messages", ""),
            ("unsubscribed", ""),
        ]:
            assert counters[(metric, key)] == 1, (metric, key, counters)

        # And the campaign's report says so over the API
        _key, reader = api_key_create(name="report reader", scopes=[CAMPAIGNS_READ])
        report = requests.get(
            f"{running.base_url}/api/v1/campaigns/{campaign.pk}/report",
            headers={"Authorization": f"Bearer {reader}"},
            timeout=HTTP_TIMEOUT,
        )
        assert report.status_code == 200, report.text
        assert_report_counts(report.json())

        # When the campaign is sent again to the same audience
        assert api.audience(campaign).status_code == 202

        # Then the unsubscribed address is excluded, and nothing more is sent
        def excluded() -> bool:
            return Message.objects.filter(campaign=campaign, status="excluded").exists()

        assert wait_for(excluded, ARRIVAL_SECONDS, 0.2), running.outputs()
        second = Message.objects.get(campaign=campaign, status="excluded")
        assert (second.reason, second.reason_detail) == ("suppressed", "unsubscribed")
        assert smtp_sink.count() == 1

        # And the receiver got each event once, signed the Standard Webhooks way
        wanted = ["sent", "opened", "clicked", "unsubscribed", "excluded"]
        assert wait_for(lambda: len(receiver.requests) >= len(wanted), ARRIVAL_SECONDS, 0.2), (
            running.outputs()
        )
        verifier = Webhook(endpoint.secret)
        events = [verifier.verify(r.body, r.headers) for r in receiver.requests]
        assert sorted(e["type"] for e in events) == sorted(wanted)
        by_type = {e["type"]: e for e in events}
        assert by_type["clicked"]["data"]["url"] == SALE
        assert by_type["excluded"]["data"]["reason"] == "suppressed"
        assert {e["data"]["campaignId"] for e in events} == {str(campaign.pk)}
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == len(wanted)
        assert json.loads(receiver.requests[0].body)["data"]["messageId"] in {
            str(message.pk),
            str(second.pk),
        }
    finally:
        receiver.close()


def assert_report_counts(report: dict[str, Any]) -> None:
    """The report of one sent, opened, clicked and unsubscribed message (no feedback)."""
    totals = report["totals"]
    assert (totals["targeted"], totals["sent"], totals["delivered"]) == (1, 1, 0)
    assert (totals["opens"]["total"], totals["opens"]["unique"]) == (1, 1)
    assert (totals["clicks"]["total"], totals["clicks"]["unique"]) == (1, 1)
    [link] = totals["clicks"]["byLink"]
    assert (link["link"], link["url"], link["total"], link["unique"]) == (1, SALE, 1, 1)
    assert totals["unsubscribed"] == 1
    assert totals["rates"] == {"base": "sent", "clickThrough": 1.0, "clickToOpen": 1.0}
