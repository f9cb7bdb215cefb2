"""A campaign's report page in the admin: numbers, charts with tables, windows, CSV, access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery.models import ReportCounter
from tests.delivery.admin_helpers import staff_with
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
    recipient,
    use_fake_transport,
)
from tests.factories import AccessLabelFactory

pytestmark = pytest.mark.django_db


def _url(campaign, query: str = "") -> str:
    return reverse("admin:campaigns_campaign_report", args=[campaign.pk]) + query


@pytest.fixture
def sent_campaign(live_campaign, monkeypatch):
    transport = use_fake_transport(monkeypatch)
    record_retries(monkeypatch)
    transport.fail("b@example.com", TRANSIENT)
    transport.fail("c@example.com", PERMANENT)
    campaign = two_locale_campaign(live_campaign)
    messages = accept_unitary(campaign, *(recipient(f"{x}@example.com") for x in ("a", "b", "c")))
    send_until_final(messages)
    a = messages[0]
    a.refresh_from_db()
    event(a, "opened")
    event(a, "clicked", link=1, url="https://shop.example/o")
    return campaign


def test_the_report_page_shows_numbers_charts_and_their_tables(
    admin_client: Client, sent_campaign
) -> None:
    response = admin_client.get(_url(sent_campaign))

    assert response.status_code == 200
    page = response.content.decode()
    totals = response.context["totals"]
    assert (totals.targeted, totals.sent, totals.failed, totals.retried) == (
        3,
        2,
        {"smtp_550": 1},
        1,
    )
    assert (totals.opens_unique, totals.clickers) == (1, 1)
    # the vendored chart library, never a CDN
    assert "delivery/vendor/chartjs/chart.umd.min.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("delivery/vendor/chartjs/chart.umd.min.js") is not None
    for chart in ("time", "funnel", "reasons", "links"):
        assert f'id="clarion-chart-{chart}" aria-hidden="true"' in page
    # each chart has a table with the same numbers
    assert [(s["label"], s["count"]) for s in response.context["funnel"]] == [
        ("Targeted", 3),
        ("Sent", 2),
        ("Opened (unique)", 1),
        ("Clicked (unique)", 1),
    ]
    assert "<code>smtp_550</code>" in page
    assert "https://shop.example/o" in page
    assert 'id="clarion-report-data"' in page
    assert [g.key for g in response.context["locales"]] == ["", "en"]
    assert [g.key for g in response.context["versions"]] == ["1"]


def test_the_campaign_page_and_list_link_to_the_report(admin_client: Client, sent_campaign) -> None:
    change = admin_client.get(reverse("admin:campaigns_campaign_change", args=[sent_campaign.pk]))
    listing = admin_client.get(reverse("admin:campaigns_campaign_changelist"))

    assert f'href="{_url(sent_campaign)}"' in change.content.decode()
    assert f'href="{_url(sent_campaign)}"' in listing.content.decode()


def test_the_live_window_leaves_out_older_hours(admin_client: Client, sent_campaign) -> None:
    ReportCounter.objects.filter(campaign=sent_campaign, metric="sent").update(
        hour=timezone.now() - timedelta(days=3)
    )

    live = admin_client.get(_url(sent_campaign, "?window=live")).context["totals"]
    everything = admin_client.get(_url(sent_campaign, "?window=all")).context["totals"]

    assert (live.sent, live.targeted) == (0, 3)
    assert everything.sent == 2


def test_a_range_of_days_and_a_bad_range(admin_client: Client, sent_campaign) -> None:
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)

    inside = admin_client.get(_url(sent_campaign, f"?window=range&start={today}&end={today}"))
    before = admin_client.get(
        _url(sent_campaign, f"?window=range&start={yesterday}&end={yesterday}")
    )
    backwards = admin_client.get(
        _url(sent_campaign, f"?window=range&start={today}&end={yesterday}")
    )

    assert inside.context["totals"].sent == 2
    assert before.context["totals"].sent == 0
    assert backwards.status_code == 200
    assert "The last day comes before the first." in backwards.content.decode()
    assert backwards.context["window"].name == "all"


def test_the_csv_export_has_a_row_per_group_and_metric(admin_client: Client, sent_campaign) -> None:
    response = admin_client.get(_url(sent_campaign, "?window=all&format=csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="report-{sent_campaign.pk}-all.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["group_by", "group", "metric", "key", "value"]
    values = {tuple(row[:4]): row[4] for row in rows[1:]}
    assert values[("total", "", "targeted", "")] == "3"
    assert values[("total", "", "failed", "smtp_550")] == "1"
    assert values[("total", "", "link_clicks", "1")] == "1"
    assert values[("total", "", "click_through_rate", "")] == "0.5"
    assert values[("locale", "en", "sent", "")] == "2"
    assert values[("version", "1", "retried", "")] == "1"
    assert sum(1 for row in rows if row[0] == "hour" and row[2] == "sent") == 1


def test_whoever_cannot_view_the_campaign_cannot_view_its_report(
    client: Client, sent_campaign
) -> None:
    # a viewer holding the campaign view permission, and one without it
    viewer = staff_with("view_campaign", username="viewer")
    nobody = staff_with(username="nobody")
    client.force_login(nobody)
    refused = client.get(_url(sent_campaign))
    client.force_login(viewer)
    allowed = client.get(_url(sent_campaign))
    # and a campaign behind an access label the viewer lacks
    vip = AccessLabelFactory.create(name="vip")
    sent_campaign.access_labels.set([vip])
    sent_campaign.live_version.access_labels.set([vip])
    hidden = client.get(_url(sent_campaign))

    assert refused.status_code in (403, 404)
    assert allowed.status_code == 200
    assert hidden.status_code == 404


def test_far_days_are_refused_in_words_and_a_long_range_charts_only_its_counts(
    admin_client: Client, sent_campaign
) -> None:
    # when a range ends at the end of time, or starts at its beginning
    endless = admin_client.get(_url(sent_campaign, "?window=range&end=9999-12-31"))
    ancient = admin_client.get(_url(sent_campaign, "?window=range&start=1990-01-01"))

    # then the page says which days it takes, and shows all time instead (no 500)
    assert endless.status_code == 200
    assert "Choose a day between 2000-01-01 and 2999-12-31." in endless.content.decode()
    assert endless.context["window"].name == "all"
    # and a range from long before the first counts charts from those counts on
    start = timezone.now().date() - timedelta(days=400)
    long_ago = admin_client.get(_url(sent_campaign, f"?window=range&start={start}"))
    assert long_ago.status_code == 200
    assert long_ago.context["totals"].sent == 2
    assert len(long_ago.context["series"]) <= 2
    assert ancient.status_code == 200
