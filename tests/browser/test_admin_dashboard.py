"""In a real browser: the home page's dashboard draws its chart offline, and the
dashboard, the reports index and a list with the grouped navigation fit 1366 and 390 px."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Status
from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from delivery.models import (
    Execution,
    ExecutionKind,
    ExecutionStatus,
    ReportCounter,
    WebhookEndpoint,
)
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = (1366, 390)


def _data() -> None:
    campaign = campaign_activate(campaign=CampaignFactory.create(name="Spring sale"), actor=Actor())
    assert campaign.live_version is not None
    CampaignFactory.create(name="Autumn launch, waiting for a colleague", status=Status.IN_REVIEW)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    ReportCounter.objects.bulk_create(
        ReportCounter(
            campaign=campaign,
            version=campaign.live_version,
            hour=hour - timedelta(hours=h),
            metric=metric,
            key=key,
            count=count,
        )
        for h in range(0, 24 * 7, 5)
        for metric, key, count in (("sent", "", 40 + h), ("failed", "smtp_550", 4))
    )
    for status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.PARTIALLY_FAILED):
        Execution.objects.create(
            kind=ExecutionKind.AUDIENCE,
            campaign=campaign,
            version=campaign.live_version,
            status=status,
            targeted_count=1200,
        )
    WebhookEndpoint.objects.create(
        name="CRM hook",
        url="https://crm.example/hook",
        enabled=False,
        disabled_reason="Disabled after 20 failed deliveries in a row.",
        disabled_at=timezone.now(),
    )


def test_the_dashboard_draws_its_chart_and_the_shell_fits_both_widths(
    page: Page, live_server: LiveServer
) -> None:
    # Given an installation with sends, failures, executions and things to look at
    User.objects.create_superuser("dana", "dana@example.com", "dashboard-pass-1")
    _data()
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "dashboard-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("dana")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    pages = {
        "dashboard": "/admin/",
        "reports-index": "/admin/reports/",
        "campaign-list": "/admin/campaigns/campaign/",
    }
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            # When each page is opened at this width
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("load")  # the scripts are deferred

            # Then nothing is wider than the screen, and Django's name is nowhere
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            assert "Django" not in page.content(), name
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)

        # And the dashboard's chart is drawn by the vendored Chart.js, above its table
        page.goto(f"{live_server.url}/admin/")
        page.wait_for_load_state("load")
        assert page.evaluate("!!window.Chart.getChart('clarion-chart-sends')")
        expect(page.locator(".clarion-attention")).to_contain_text("CRM hook")
        expect(page.locator(".clarion-attention")).to_contain_text("Autumn launch")
        expect(page.locator(".clarion-navigation")).to_contain_text("Audiences & profiles")
    assert outside == []
    assert errors == []
