"""GET /api/v1/campaigns/{id}/report: windows, groups, access, bad query parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from delivery.models import ReportCounter
from delivery.reports.counting import report_counts_add
from delivery.services.happenings import Happening
from tests.api.conftest import problem
from tests.delivery.report_helpers import record_retries, send_until_final, two_locale_campaign
from tests.delivery.sending_helpers import (
    TRANSIENT,
    accept_unitary,
    recipient,
    use_fake_transport,
)
from tests.factories import AccessLabelFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def _url(campaign: Any, query: str = "") -> str:
    return f"/api/v1/campaigns/{campaign.pk}/report{query}"


def _sent_campaign(live_campaign: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    transport = use_fake_transport(monkeypatch)
    record_retries(monkeypatch)
    transport.fail("b@example.com", TRANSIENT)
    campaign = two_locale_campaign(live_campaign)
    messages = accept_unitary(campaign, recipient("a@example.com"), recipient("b@example.com"))
    send_until_final(messages)
    return campaign


def _backdate(campaign: Any, hours: int) -> None:
    """Move every rollup of ``campaign`` ``hours`` into the past."""
    for counter in ReportCounter.objects.filter(campaign=campaign):
        counter.hour -= timedelta(hours=hours)
        counter.save(update_fields=["hour"])


def test_the_report_of_a_sent_campaign(live_campaign, monkeypatch, api_client) -> None:
    campaign = _sent_campaign(live_campaign, monkeypatch)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)

    response = api_client("campaigns:read").get(_url(campaign, "?groupBy=hour"))

    assert response.status_code == 200
    body = response.json()
    assert body["campaignId"] == str(campaign.pk)
    assert body["window"] == {"name": "all", "start": None, "end": None}
    assert body["groupBy"] == "hour"
    totals = body["totals"]
    assert (totals["targeted"], totals["sent"], totals["retried"]) == (2, 2, 1)
    assert totals["rates"] == {"base": "sent", "clickThrough": 0.0, "clickToOpen": None}
    [group] = body["groups"]
    assert group["key"] == hour.isoformat().replace("+00:00", "Z")
    assert group["metrics"] == totals


def test_live_counts_only_the_last_24_hours(live_campaign, monkeypatch, api_client) -> None:
    # given a campaign whose sends were two days ago
    campaign = _sent_campaign(live_campaign, monkeypatch)
    _backdate(campaign, 48)
    client = api_client("campaigns:read")

    # when its live and all-time reports are read
    live = client.get(_url(campaign, "?window=live")).json()
    everything = client.get(_url(campaign, "?window=all")).json()

    # then live counts nothing, and all time everything
    assert live["totals"]["sent"] == 0
    assert live["window"]["name"] == "live"
    assert everything["totals"]["sent"] == 2


def test_a_range_counts_whole_hours(live_campaign, api_client) -> None:
    # given rollups at 10:00, 11:00 and 12:00
    campaign = two_locale_campaign(live_campaign)
    version_id = campaign.live_version_id
    assert version_id is not None
    for hour in (10, 11, 12):
        ReportCounter.objects.create(
            campaign=campaign,
            version_id=version_id,
            hour=NOW.replace(hour=hour, minute=0),
            metric="sent",
            count=hour,
        )

    # when the range 10:45 to 11:15 is asked for
    body = api_client("campaigns:read").get(
        _url(campaign, "?from=2026-03-10T10:45:00Z&to=2026-03-10T11:15:00Z")
    )

    # then the hours 10:00 and 11:00 are counted
    assert body.status_code == 200
    data = body.json()
    assert data["window"] == {
        "name": "range",
        "start": "2026-03-10T10:00:00Z",
        "end": "2026-03-10T12:00:00Z",
    }
    assert data["totals"]["sent"] == 21


def test_grouped_by_version_and_locale(live_campaign, monkeypatch, api_client) -> None:
    campaign = _sent_campaign(live_campaign, monkeypatch)
    client = api_client("campaigns:read")

    by_version = client.get(_url(campaign, "?groupBy=version")).json()
    by_locale = client.get(_url(campaign, "?groupBy=locale")).json()

    assert [(g["key"], g["metrics"]["sent"]) for g in by_version["groups"]] == [("1", 2)]
    assert [
        (g["key"], g["metrics"]["targeted"], g["metrics"]["sent"]) for g in by_locale["groups"]
    ] == [
        ("", 2, 0),
        ("en", 0, 2),
    ]


@pytest.mark.parametrize(
    ("query", "pointer", "status"),
    [
        ("?groupBy=country", "/query/groupBy", 400),
        ("?window=week", "/query/window", 400),
        ("?from=yesterday", "/query/from", 400),
        ("?from=2026-03-10T10:00:00", "/query/from", 400),  # no time zone
        ("?groupBy=hour&groupBy=locale", "/query/groupBy", 400),
        ("?from=2026-03-10T10:00:00Z&to=2026-03-10T10:00:00Z", "/query/to", 422),
        ("?window=live&from=2026-03-10T10:00:00Z", "/query/window", 422),
    ],
)
def test_bad_query_parameters_are_problems_with_pointers(
    live_campaign, api_client, query: str, pointer: str, status: int
) -> None:
    campaign = two_locale_campaign(live_campaign)

    response = api_client("campaigns:read").get(_url(campaign, query))

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_the_end_of_the_calendar_is_an_open_bound(live_campaign, api_client) -> None:
    campaign = two_locale_campaign(live_campaign)

    response = api_client("campaigns:read").get(
        _url(campaign, "?from=0001-01-01T00:00:00Z&to=9999-12-31T23:30:00Z")
    )

    # the last hour cannot be rounded up: the range has no end
    assert response.status_code == 200
    assert response.json()["window"] == {
        "name": "range",
        "start": "0001-01-01T00:00:00Z",
        "end": None,
    }


def test_a_campaign_whose_label_the_key_lacks_is_404(live_campaign, api_client) -> None:
    vip = AccessLabelFactory.create(name="vip")
    campaign = two_locale_campaign(live_campaign)
    campaign.access_labels.set([vip])
    assert campaign.live_version is not None
    campaign.live_version.access_labels.set([vip])

    outsider = api_client("campaigns:read").get(_url(campaign))
    insider = api_client("campaigns:read", labels=("vip",)).get(_url(campaign))

    assert outsider.status_code == 404
    assert outsider.json() == problem(404, "not_found", f"No campaign has the id “{campaign.pk}”.")
    assert insider.status_code == 200


def test_a_key_without_campaigns_read_is_403_and_a_malformed_id_404(
    live_campaign, api_client
) -> None:
    campaign = two_locale_campaign(live_campaign)

    assert api_client("executions:trigger").get(_url(campaign)).status_code == 403
    assert api_client("campaigns:read").get("/api/v1/campaigns/nope/report").status_code == 404


def test_a_report_costs_a_fixed_number_of_queries(
    live_campaign, api_client, django_assert_num_queries
) -> None:
    # given a campaign with a month of hourly rollups in three locales, with clicks
    campaign = two_locale_campaign(live_campaign)
    client = api_client("campaigns:read")
    client.get("/api/v1/channel-configurations")  # the key is cached from here on
    version_id = campaign.live_version_id
    assert version_id is not None
    ReportCounter.objects.bulk_create(
        ReportCounter(
            campaign=campaign,
            version_id=version_id,
            locale=locale,
            hour=NOW - timedelta(hours=h),
            metric=metric,
            key=key,
            count=3,
        )
        for h in range(24 * 30)
        for locale in ("en", "fr", "de")
        for metric, key in (("sent", ""), ("clicked", "1"), ("failed", "smtp_550"))
    )

    for query, queries in (("", 3), ("?groupBy=hour", 3), ("?groupBy=version", 4)):
        # the campaign (visibility included), the rollups, the link targets (+ version numbers)
        with django_assert_num_queries(queries):
            response = client.get(_url(campaign, query))
        assert response.status_code == 200
        assert response.json()["totals"]["sent"] == 3 * 3 * 24 * 30


def test_happenings_of_another_campaign_are_not_counted(live_campaign, api_client) -> None:
    campaign = two_locale_campaign(live_campaign)
    other = two_locale_campaign(live_campaign)
    [message] = accept_unitary(other, recipient("a@example.com"))
    report_counts_add(happenings=[Happening(type="sent", message=message, at=timezone.now())])

    body = api_client("campaigns:read").get(_url(campaign)).json()

    assert body["totals"]["targeted"] == 0
    assert body["totals"]["sent"] == 0
