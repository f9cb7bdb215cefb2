"""Reports are exact: the rollups equal counts taken from the message, attempt and event
rows, after retries, permanent failures, exclusions and events that arrive twice."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count

from audiences.models import Suppression
from core.actors import Actor
from delivery.models import EventType, Message, MessageAttempt, MessageEvent, ReportCounter
from delivery.reports.rebuild import report_counts_check, report_counts_rebuild
from delivery.reports.selectors import GroupBy, ReportWindow, campaign_report
from delivery.services.proofs import campaign_send_test
from delivery.services.subscriptions import address_unsubscribe
from tests.delivery.report_helpers import (
    event,
    record_retries,
    send_until_final,
    two_locale_campaign,
)
from tests.delivery.sending_helpers import (
    PERMANENT,
    TRANSIENT,
    accept_unitary,
    person,
    recipient,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db


def test_the_report_equals_hand_counted_numbers_after_retries_and_repeated_events(
    live_campaign, monkeypatch
) -> None:
    # given a campaign in two locales and six recipients with every outcome
    transport = use_fake_transport(monkeypatch)
    record_retries(monkeypatch)
    person("b@example.com", locale="fr")
    person("f@example.com", locale="fr")
    Suppression.objects.create(channel="email", address="d@example.com", reason="hard_bounce")
    transport.fail("b@example.com", TRANSIENT, TRANSIENT)  # two retries, then sent
    transport.fail("c@example.com", PERMANENT)  # failed at once
    transport.fail("e@example.com", TRANSIENT, PERMANENT)  # one retry, then failed
    campaign = two_locale_campaign(live_campaign)
    addresses = ["a", "b", "c", "d", "e", "f"]
    messages = accept_unitary(campaign, *(recipient(f"{x}@example.com") for x in addresses))
    a, b, c, d, e, f = messages

    # when they are sent until every one is final, and a test send goes too
    assert send_until_final(messages) == 3
    campaign_send_test(campaign=campaign, address="test@example.com", actor=Actor())
    a.refresh_from_db()
    b.refresh_from_db()
    f.refresh_from_db()
    # and tracking and the provider report what happened, some of it twice
    assert event(a, "delivered", provider="ses", provider_event_id="d-a") is True
    assert event(a, "delivered", provider="ses", provider_event_id="d-a") is False
    event(b, "delivered", provider="ses", provider_event_id="d-b")
    event(a, "opened")
    event(a, "opened")
    event(a, "opened", machine=True)
    event(b, "opened")
    event(a, "clicked", link=1, url="https://shop.example/o")
    event(a, "clicked", link=1, url="https://shop.example/o")
    event(a, "clicked", link=2, url="https://shop.example/h")
    event(b, "clicked", link=1, url="https://shop.example/fr/o", machine=True)
    event(f, "deferred", provider="ses", provider_event_id="s-f")
    event(f, "bounced", provider="ses", provider_event_id="h-f", reason="hard")
    event(f, "bounced", provider="ses", provider_event_id="h-f", reason="hard")
    event(b, "complained", provider="ses", provider_event_id="c-b")
    assert address_unsubscribe(channel="email", address=a.address, source="link", message=a)
    address_unsubscribe(channel="email", address=a.address, source="one_click", message=a)

    # then the rollups equal the rows' counts
    assert report_counts_check(campaign_id=campaign.pk) == []
    # and the report says what happened, counted by hand
    report = campaign_report(campaign=campaign, window=ReportWindow.all())
    data = report.totals.as_data()
    assert data == {
        "targeted": 6,
        "sent": 3,
        "delivered": 2,
        "bounced": {"total": 2, "hard": 1, "soft": 1},
        "failed": {"total": 2, "byReason": [{"reason": "smtp_550", "count": 2}]},
        "excluded": {"total": 1, "byReason": [{"reason": "suppressed", "count": 1}]},
        "retried": 3,
        "rejected": 0,
        "complained": 1,
        "unsubscribed": 1,
        "resubscribed": 0,
        "opens": {"total": 3, "unique": 2, "machine": 1, "machineUnique": 1, "estimated": 2},
        "clicks": {
            "total": 3,
            "unique": 1,
            "machine": 1,
            "byLink": [
                {
                    "link": 1,
                    "url": "https://shop.example/fr/o",
                    "total": 2,
                    "unique": 1,
                    "machine": 1,
                    "machineUnique": 1,
                },
                {
                    "link": 2,
                    "url": "https://shop.example/h",
                    "total": 1,
                    "unique": 1,
                    "machine": 0,
                    "machineUnique": 0,
                },
            ],
        },
        "rates": {"base": "delivered", "clickThrough": 0.5, "clickToOpen": 0.5},
    }
    # and by locale: targeted before a locale was chosen, the rest where they were sent
    by_locale = campaign_report(
        campaign=campaign, window=ReportWindow.all(), group_by=GroupBy.LOCALE
    )
    assert [
        (g.key, g.metrics.targeted, g.metrics.sent, g.metrics.failed_total, g.metrics.retried)
        for g in by_locale.groups
    ] == [("", 6, 0, 0, 0), ("en", 0, 1, 2, 1), ("fr", 0, 2, 0, 2)]
    assert by_locale.groups[0].metrics.excluded == {"suppressed": 1}
    assert (c.pk, d.pk, e.pk) != ()  # all six were accepted


def test_the_report_equals_counts_taken_directly_from_the_rows(live_campaign, monkeypatch) -> None:
    # given a generated campaign: 60 recipients with random outcomes and events
    rng = random.Random(8)
    transport = use_fake_transport(monkeypatch)
    record_retries(monkeypatch)
    addresses = [f"p{n}@example.com" for n in range(60)]
    for address in addresses:
        if rng.random() < 0.4:
            person(address, locale="fr")
        roll = rng.random()
        if roll < 0.15:
            transport.fail(address, *([TRANSIENT] * rng.randint(1, 3)))
        elif roll < 0.25:
            transport.fail(address, PERMANENT)
        elif roll < 0.3:
            transport.fail(address, TRANSIENT, PERMANENT)
        elif roll < 0.35:
            Suppression.objects.create(channel="email", address=address, reason="complaint")
    campaign = two_locale_campaign(live_campaign)
    messages = accept_unitary(campaign, *(recipient(a) for a in addresses[:40]))
    messages += accept_unitary(campaign, *(recipient(a) for a in addresses[40:]))
    send_until_final(messages)
    sent = list(Message.objects.filter(campaign=campaign, status="sent"))
    for message in sent:
        for n in range(rng.randint(0, 3)):  # provider events, some sent twice
            event(message, "delivered", provider="ses", provider_event_id=f"d-{message.pk}-{n % 2}")
        for _ in range(rng.randint(0, 3)):
            event(message, "opened", machine=rng.random() < 0.3)
        for _ in range(rng.randint(0, 3)):
            link = rng.randint(1, 2)
            event(
                message,
                "clicked",
                link=link,
                url=f"https://x.example/{link}",
                machine=rng.random() < 0.2,
            )
        if rng.random() < 0.1:
            event(
                message,
                "bounced",
                provider="ses",
                provider_event_id=f"b-{message.pk}",
                reason="hard",
            )
        if rng.random() < 0.2:
            address_unsubscribe(
                channel="email", address=message.address, source="link", message=message
            )

    # when the report is read
    totals = campaign_report(campaign=campaign, window=ReportWindow.all()).totals

    # then every number equals a count over the rows
    rows = Message.objects.filter(campaign=campaign)
    events = MessageEvent.objects.filter(message__campaign=campaign)
    failed = dict(
        rows.filter(status="failed").values_list("reason").annotate(n=Count("*")).order_by()
    )
    excluded = dict(
        rows.filter(status="excluded").values_list("reason").annotate(n=Count("*")).order_by()
    )
    human_clicks = events.filter(type="clicked", machine=False)
    assert (
        totals.targeted,
        totals.sent,
        totals.failed,
        totals.excluded,
        totals.retried,
        totals.delivered,
        totals.bounced_hard,
        totals.unsubscribed,
        totals.opens,
        totals.opens_unique,
        totals.opens_machine,
        totals.opens_machine_unique,
        totals.clicks,
        totals.clickers,
        {n: link.unique for n, link in totals.links.items()},
    ) == (
        rows.count(),
        rows.filter(status__in=("sent", "delivered", "bounced", "complained")).count(),
        failed,
        excluded,
        MessageAttempt.objects.filter(message__campaign=campaign, outcome="retry").count(),
        # a message is delivered (bounces) once, however many reports of it came
        events.filter(type="delivered").values("message").distinct().count(),
        events.filter(type="bounced").values("message").distinct().count(),
        events.filter(type="unsubscribed").values("message").distinct().count(),
        events.filter(type="opened", machine=False).count(),
        events.filter(type="opened", machine=False).values("message").distinct().count(),
        events.filter(type="opened", machine=True).count(),
        events.filter(type="opened", machine=True).values("message").distinct().count(),
        human_clicks.count(),
        human_clicks.values("message").distinct().count(),
        dict(
            human_clicks.values_list("link").annotate(n=Count("message", distinct=True)).order_by()
        ),
    )
    assert totals.retried > 0 and totals.failed and totals.excluded  # the data covers them
    # and the rollups equal the rebuild, hour by hour
    assert report_counts_check(campaign_id=campaign.pk) == []


def test_a_rebuild_restores_the_rollups_exactly(live_campaign, monkeypatch) -> None:
    # given a sent campaign with events
    transport = use_fake_transport(monkeypatch)
    record_retries(monkeypatch)
    transport.fail("b@example.com", TRANSIENT)
    campaign = two_locale_campaign(live_campaign)
    a, b = accept_unitary(campaign, recipient("a@example.com"), recipient("b@example.com"))
    send_until_final([a, b])
    a.refresh_from_db()  # tracking reads the message as sent, in its locale
    b.refresh_from_db()
    event(a, EventType.OPENED)
    event(b, EventType.CLICKED, link=1, url="https://shop.example/o")
    before = campaign_report(campaign=campaign, window=ReportWindow.all()).totals
    stored = sorted(ReportCounter.objects.values_list("hour", "locale", "metric", "key", "count"))

    # when the rollups are lost and rebuilt
    ReportCounter.objects.all().delete()
    written = report_counts_rebuild(campaign_id=campaign.pk)

    # then they are what they were
    assert written == len(stored)
    assert (
        sorted(ReportCounter.objects.values_list("hour", "locale", "metric", "key", "count"))
        == stored
    )
    assert campaign_report(campaign=campaign, window=ReportWindow.all()).totals == before


def test_a_check_reports_each_rollup_that_differs(live_campaign, monkeypatch) -> None:
    use_fake_transport(monkeypatch)
    campaign = two_locale_campaign(live_campaign)
    [message] = accept_unitary(campaign, recipient("a@example.com"))
    send_until_final([message])
    ReportCounter.objects.filter(metric="sent").update(count=5)

    [difference] = report_counts_check(campaign_id=campaign.pk)

    assert (difference.key[5], difference.stored, difference.counted) == ("sent", 5, 1)
