"""The admin's home page (delivery.dashboard): running campaigns, today's sends and
failures, recent executions, what needs attention, a chart of the last 7 days; and the
reports index. Each part only with its permission; a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from campaigns.models import Campaign, Status
from core.actors import Actor
from delivery.dashboard.selectors import sends_read
from delivery.models import (
    Execution,
    ExecutionKind,
    ExecutionStatus,
    ReportCounter,
    WebhookEndpoint,
)
from tests.delivery.admin_helpers import staff_with
from tests.factories import AccessLabelFactory, CampaignFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def _count(campaign: Campaign, hour: datetime, metric: str, count: int, key: str = "") -> None:
    assert campaign.live_version is not None
    ReportCounter.objects.create(
        campaign=campaign,
        version=campaign.live_version,
        hour=hour,
        metric=metric,
        key=key,
        count=count,
    )


def _execution(campaign: Campaign, status: str, **fields: Any) -> Execution:
    assert campaign.live_version is not None
    return Execution.objects.create(
        kind=ExecutionKind.UNITARY,
        campaign=campaign,
        version=campaign.live_version,
        status=status,
        **fields,
    )


def test_sends_are_read_by_day_and_over_the_last_24_hours(live_campaign, frozen_now) -> None:
    # Given rollups today, yesterday evening, 6 days ago and 8 days ago (UTC)
    campaign = live_campaign()
    _count(campaign, datetime(2026, 3, 10, 14, tzinfo=UTC), "sent", 90)
    _count(campaign, datetime(2026, 3, 10, 14, tzinfo=UTC), "failed", 6, key="bounced")
    _count(campaign, datetime(2026, 3, 10, 9, tzinfo=UTC), "failed", 4, key="invalid")
    _count(campaign, datetime(2026, 3, 9, 20, tzinfo=UTC), "sent", 10)
    _count(campaign, datetime(2026, 3, 9, 10, tzinfo=UTC), "sent", 1000)  # over 24 h ago
    _count(campaign, datetime(2026, 3, 4, 0, tzinfo=UTC), "sent", 7)
    _count(campaign, datetime(2026, 3, 2, 0, tzinfo=UTC), "sent", 500)  # before the chart
    _count(campaign, datetime(2026, 3, 10, 14, tzinfo=UTC), "opened", 50)  # not a send

    # When they are read
    sends = sends_read(actor=Actor.system())

    # Then today, the last 24 hours and each of 7 days add up
    assert (sends.today.sent, sends.today.failed) == (90, 10)
    assert (sends.sent_24h, sends.failed_24h) == (100, 10)
    assert sends.failure_rate == pytest.approx(10 / 110)
    assert [(d.day.isoformat(), d.sent, d.failed) for d in sends.days] == [
        ("2026-03-04", 7, 0),
        ("2026-03-05", 0, 0),
        ("2026-03-06", 0, 0),
        ("2026-03-07", 0, 0),
        ("2026-03-08", 0, 0),
        ("2026-03-09", 1010, 0),
        ("2026-03-10", 90, 10),
    ]


def test_no_sends_is_no_failure_rate(frozen_now) -> None:
    sends = sends_read(actor=Actor.system())

    assert sends.failure_rate is None
    assert [d.sent for d in sends.days] == [0] * 7


def _busy_installation(live_campaign) -> dict[str, Any]:
    live = live_campaign(name="Spring sale")
    scheduled = live_campaign(name="Summer teaser", start_at=NOW + timedelta(days=30))
    waiting = CampaignFactory.create(name="Autumn launch", status=Status.IN_REVIEW)
    CampaignFactory.create(name="Draft idea")
    _count(live, datetime(2026, 3, 10, 14, tzinfo=UTC), "sent", 80)
    _count(live, datetime(2026, 3, 10, 14, tzinfo=UTC), "failed", 20, key="invalid")
    _execution(live, ExecutionStatus.SUCCEEDED, targeted_count=3)
    _execution(live, ExecutionStatus.FAILED, targeted_count=1)
    WebhookEndpoint.objects.create(
        name="CRM hook",
        url="https://crm.example/hook",
        enabled=False,
        disabled_reason="20 failures in a row",
        disabled_at=NOW,
    )
    return {"live": live, "scheduled": scheduled, "waiting": waiting}


def test_the_dashboard_shows_what_runs_what_was_sent_and_what_needs_attention(
    admin_client: Client, live_campaign, frozen_now
) -> None:
    # Given a live and a scheduled campaign, one in review, sends with 20 % failures,
    # two executions and a disabled webhook endpoint
    made = _busy_installation(live_campaign)

    # When the administrator opens the home page
    response = admin_client.get("/admin/")

    # Then it shows each part
    assert response.status_code == 200
    context = response.context
    assert (context["campaign_counts"].live, context["campaign_counts"].scheduled) == (1, 1)
    assert [c.name for c in context["running"]] == ["Spring sale", "Summer teaser"]
    assert [c.name for c in context["waiting"]] == ["Autumn launch"]
    assert (context["sends"].today.sent, context["sends"].today.failed) == (80, 20)
    assert context["failure_rate_percent"] == 20.0
    assert context["failure_rate_high"] is True
    assert [e.status for e in context["executions"]] == ["failed", "succeeded"]
    assert [e.name for e in context["disabled_endpoints"]] == ["CRM hook"]
    assert context["chart_data"]["series"][0] == {
        "label": "Sent",
        "data": [0, 0, 0, 0, 0, 0, 80],
    }
    html = response.content.decode()
    assert "<title>Dashboard | Clarion</title>" in html
    review = reverse("admin:campaigns_campaign_review", args=[made["waiting"].pk])
    assert f'<a href="{review}">Autumn launch</a>' in html
    assert "1 campaign waits for approval:" in html
    assert 'CRM hook</a> <span class="quiet">20 failures in a row</span>' in html
    assert (
        "20 messages failed in the last 24 hours: 20.0 %, above the 5.0 % this installation "
        "watches for."
    ) in html
    assert '<canvas id="clarion-chart-sends" aria-hidden="true"></canvas>' in html
    assert 'id="clarion-dashboard-data"' in html
    assert '<th scope="col">Sent</th><th scope="col">Failed</th>' in html  # the chart's table
    assert "Django" not in html


def test_a_failure_rate_under_the_threshold_needs_no_attention(
    admin_client: Client, live_campaign, frozen_now, settings: SettingsWrapper
) -> None:
    settings.CLARION_DASHBOARD_FAILURE_RATE = 0.25
    _busy_installation(live_campaign)

    response = admin_client.get("/admin/")

    assert response.context["failure_rate_high"] is False
    assert "failed in the last 24 hours" not in response.content.decode()


def test_an_empty_installation_says_nothing_needs_attention(admin_client: Client) -> None:
    response = admin_client.get("/admin/")

    html = response.content.decode()
    assert "Nothing needs attention." in html
    assert "No campaign is live or scheduled." in html
    assert "No execution yet." in html


def test_the_dashboard_reads_a_fixed_number_of_queries(
    client: Client, admin_user_obj, live_campaign, frozen_now
) -> None:
    client.force_login(admin_user_obj)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/").status_code == 200
        return len(captured)

    empty = queries()
    _busy_installation(live_campaign)
    for n in range(12):  # more than a list shows
        _execution(Campaign.objects.get(name="Spring sale"), ExecutionStatus.QUEUED)
        CampaignFactory.create(name=f"Waiting {n}", status=Status.IN_REVIEW)

    # session, user; counts, running, waiting, sends, executions, endpoints
    assert queries() == empty == 8


def test_each_part_needs_its_permission(client: Client, live_campaign, frozen_now) -> None:
    _busy_installation(live_campaign)
    # Given a person who may read messages and executions, not campaigns or webhooks
    client.force_login(staff_with("view_message", "view_execution"))

    response = client.get("/admin/")

    # Then they see recent executions, and nothing else of the dashboard
    context = response.context
    assert len(context["executions"]) == 2
    for part in ("campaign_counts", "running", "waiting", "sends", "disabled_endpoints"):
        assert part not in context, part
    html = response.content.decode()
    assert "Needs attention" not in html
    assert "Spring sale" in html  # the executions' campaign
    assert "Autumn launch" not in html
    assert "CRM hook" not in html


def test_campaigns_behind_access_labels_stay_hidden(
    client: Client, live_campaign, frozen_now
) -> None:
    # Given a campaign with a label the viewer lacks, that sent and failed
    hidden = live_campaign(name="Secret launch")
    hidden.access_labels.add(AccessLabelFactory.create(name="vip"))
    hidden.live_version.access_labels.add(*hidden.access_labels.all())
    _count(hidden, datetime(2026, 3, 10, 14, tzinfo=UTC), "sent", 5)
    _execution(hidden, ExecutionStatus.SUCCEEDED)
    client.force_login(staff_with("view_campaign", "view_execution"))

    response = client.get("/admin/")
    index = client.get(reverse("admin:reports"))

    # Then no part of the dashboard counts or lists it, nor does the reports index
    assert response.context["campaign_counts"].live == 0
    assert response.context["sends"].today.sent == 0
    assert response.context["executions"] == []
    assert "Secret launch" not in response.content.decode()
    assert list(index.context["campaigns"]) == []


def test_the_reports_index_lists_campaigns_that_sent_latest_first(
    admin_client: Client, live_campaign, frozen_now
) -> None:
    older = live_campaign(name="Older")
    newer = live_campaign(name="Newer")
    live_campaign(name="Never sent")
    _count(older, datetime(2026, 3, 1, 9, tzinfo=UTC), "sent", 4)
    _count(older, datetime(2026, 3, 2, 9, tzinfo=UTC), "sent", 3)
    _count(newer, datetime(2026, 3, 10, 9, tzinfo=UTC), "sent", 1)

    response = admin_client.get(reverse("admin:reports"))

    assert response.status_code == 200
    assert [(c.name, c.sent) for c in response.context["campaigns"]] == [
        ("Newer", 1),
        ("Older", 7),
    ]
    html = response.content.decode()
    report = reverse("admin:campaigns_campaign_report", args=[older.pk])
    assert f'<a href="{report}">Older</a>' in html
    assert "<title>Campaign reports | Clarion</title>" in html


def test_the_reports_index_needs_campaign_access(client: Client) -> None:
    client.force_login(staff_with("view_message"))

    assert client.get(reverse("admin:reports")).status_code == 403


def test_counts_and_times_are_written_for_the_users_language(
    admin_client: Client, live_campaign, frozen_now
) -> None:
    # Given 12,345 messages sent today and a recent execution
    campaign = live_campaign()
    _count(campaign, NOW.replace(minute=0, second=0, microsecond=0), "sent", 12_345)
    _execution(campaign, ExecutionStatus.SUCCEEDED, targeted_count=4_321)

    # When the administrator opens the home page
    html = admin_client.get("/admin/").content.decode()

    # Then counts have thousands separators and times say their UTC moment on hover
    assert "<dd>12,345</dd>" in html
    assert "<td>4,321</td>" in html
    assert '<time datetime="' in html and 'UTC"' in html
