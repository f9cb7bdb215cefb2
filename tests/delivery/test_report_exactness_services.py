"""Reports are exact through the real paths: the tracking views, an email provider's
webhooks (anymail's signal) sent twice, the unsubscribe page. After all of it the
rollups equal the counts the rebuild takes from the rows, and the report's numbers
are the ones counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as timezone_of

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from delivery.models import Message, ReportCounter
from delivery.reports.rebuild import report_counts_check
from delivery.reports.selectors import ReportWindow, campaign_report
from tests.delivery.sending_helpers import fan_out, person, static_audience
from tests.delivery.tracking_helpers import TRACKED_CONTENT, html_of, paths

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"
APPLE_PROXY_AGENT = "Mozilla/5.0"  # Apple Mail Privacy Protection's proxy, from Apple's network
APPLE_PROXY_ADDRESS = "17.58.1.2"
AT = datetime.now(tz=UTC).replace(microsecond=0)
NAMES = ("ana", "bo", "cy")


def _provider(message: Message, event_type: str, event_id: str, **fields: object) -> None:
    """An email provider's webhook, as anymail's view hands it over (its signal)."""
    event = AnymailTrackingEvent(
        event_type=event_type,
        timestamp=AT,
        event_id=event_id,
        metadata={"clarion_message_id": str(message.pk)},
        esp_event={},
        **fields,
    )
    tracking.send(sender=object, event=event, esp_name="Postmark")


def test_rollups_equal_the_rows_after_real_tracking_feedback_and_unsubscribes(
    live_campaign, send_inline, settings
) -> None:
    # given three messages of a tracked marketing campaign, just sent
    people = [person(f"{name}@example.com", consent={"email": "opted_in"}) for name in NAMES]
    campaign = live_campaign(
        category="marketing", audience=static_audience("Three", people), content=TRACKED_CONTENT
    )
    execution = fan_out(campaign)  # sent inline
    # The test clicks at once: no click counts as a link scanner's for its speed. (Moving
    # sent_at back instead could move it into the hour before, apart from its counter.)
    settings.CLARION_MACHINE_CLICK_SECONDS = 0
    html = {
        email.to[0].split("@")[0]: html_of(email)
        for email in mail.outbox
        if isinstance(email, EmailMultiAlternatives)
    }
    sent = {
        name: (Message.objects.get(execution=execution, address=f"{name}@example.com"), html[name])
        for name in NAMES
    }
    browser = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
    ana, bo, cy = (sent[name] for name in NAMES)

    # when ana opens twice (and Apple's proxy once), clicks link 1 twice and link 2
    # once, and unsubscribes in one click twice; bo's proxy opens and bo clicks link 2
    [ana_pixel] = paths(ana[1], "/t/o/")
    ana_new, ana_sale = paths(ana[1], "/t/c/")
    [ana_unsubscribe] = paths(ana[1], "/u/")
    for path in (ana_pixel, ana_pixel):
        assert browser.get(path).status_code == 200
    assert (
        Client(HTTP_USER_AGENT=APPLE_PROXY_AGENT, REMOTE_ADDR=APPLE_PROXY_ADDRESS)
        .get(ana_pixel)
        .status_code
        == 200
    )
    for path in (ana_new, ana_new, ana_sale):
        assert browser.get(path).status_code == 302
    for _ in range(2):
        one_click = Client().post(ana_unsubscribe, {"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
    [bo_pixel] = paths(bo[1], "/t/o/")
    _bo_new, bo_sale = paths(bo[1], "/t/c/")
    assert (
        Client(HTTP_USER_AGENT=APPLE_PROXY_AGENT, REMOTE_ADDR=APPLE_PROXY_ADDRESS)
        .get(bo_pixel)
        .status_code
        == 200
    )
    assert browser.get(bo_sale).status_code == 302
    # and the provider reports ana delivered (twice the same event, then a third time), bo delivered then
    # complained, cy deferred twice then bounced (the bounce sent twice), and a click on
    # ana's message it tracked itself
    _provider(ana[0], "delivered", "d-ana")
    _provider(ana[0], "delivered", "d-ana")
    _provider(ana[0], "delivered", "d2-ana")  # another report of it: stored, counted once
    _provider(bo[0], "delivered", "d-bo")
    _provider(bo[0], "complained", "c-bo")
    _provider(cy[0], "deferred", "s1-cy")
    _provider(cy[0], "deferred", "s2-cy")
    _provider(cy[0], "bounced", "h-cy", reject_reason="bounced")
    _provider(cy[0], "bounced", "h-cy", reject_reason="bounced")
    _provider(ana[0], "clicked", "k-ana", click_url="https://shop.example/new")

    # then the rollups equal what the rows count
    assert report_counts_check(campaign_id=campaign.pk) == []

    # and the report says what happened, counted by hand
    report = campaign_report(campaign=campaign, window=ReportWindow.all())
    totals = report.totals
    assert (totals.targeted, totals.sent, totals.delivered) == (3, 3, 2)
    assert (totals.bounced_hard, totals.bounced_soft, totals.complained) == (1, 2, 1)
    assert (totals.opens, totals.opens_unique) == (2, 1)
    assert (totals.opens_machine, totals.opens_machine_unique) == (2, 2)
    # ana's four clicks (three on Clarion's links, one the provider tracked) and bo's one
    assert (totals.clicks, totals.clickers) == (5, 2)
    assert totals.unsubscribed == 1
    statuses = [Message.objects.get(pk=sent[name][0].pk).status for name in NAMES]
    assert statuses == ["delivered", "complained", "bounced"]


def test_a_provider_time_with_an_offset_counts_in_its_utc_hour(live_campaign, send_inline) -> None:
    # given a sent message, and a provider reporting it delivered at 10:40 in +05:30
    people = [person("ana@example.com", consent={"email": "opted_in"})]
    campaign = live_campaign(
        category="marketing", audience=static_audience("One", people), content=TRACKED_CONTENT
    )
    message = Message.objects.get(execution=fan_out(campaign))
    at = datetime(2026, 11, 29, 10, 40, tzinfo=timezone_of(timedelta(hours=5, minutes=30)))

    # when it is recorded
    event = AnymailTrackingEvent(
        event_type="delivered",
        timestamp=at,
        event_id="d-offset",
        metadata={"clarion_message_id": str(message.pk)},
        esp_event={},
    )
    tracking.send(sender=object, event=event, esp_name="Postmark")

    # then it counts in 05:00 UTC, the hour the rebuild finds it in too
    delivered = ReportCounter.objects.get(campaign=campaign, metric="delivered")
    assert delivered.hour == datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    assert report_counts_check(campaign_id=campaign.pk) == []
