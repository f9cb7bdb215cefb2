"""In a real browser: a campaign's report page draws its charts offline, and is readable
at 390 px (nothing wider than the screen but the tables, which scroll in their box)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from delivery.models import ReportCounter
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_the_report_page_draws_its_charts_and_fits_a_phone(
    page: Page, live_server: LiveServer
) -> None:
    # given a campaign with two days of hourly rollups
    User.objects.create_superuser("rita", "rita@example.com", "report-pass-1")
    campaign = campaign_activate(campaign=CampaignFactory.create(name="Spring sale"), actor=Actor())
    version_id = campaign.live_version_id
    assert version_id is not None
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    ReportCounter.objects.bulk_create(
        ReportCounter(
            campaign=campaign,
            version_id=version_id,
            locale=locale,
            hour=hour - timedelta(hours=h),
            metric=metric,
            key=key,
            count=count,
        )
        for h in range(48)
        for locale in ("en", "fr")
        for metric, key, count in (
            ("sent", "", 40),
            ("delivered", "", 38),
            ("opened_unique", "", 12),
            ("clicked", "1", 4),
            ("clicked_unique", "1", 3),
            ("clicked_messages", "", 3),
            ("failed", "smtp_550", 1),
            ("excluded", "no_consent_for_a_very_long_reason_name", 2),
        )
    )
    # no request may leave the machine
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", "report-pass-1")
    page.click("input[type=submit]")

    # when the report is opened from the campaign's page
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("a.clarion-report-link")

    # then its four charts are drawn by the vendored Chart.js
    page.wait_for_load_state("load")  # the scripts are deferred
    expect(page.locator("h1")).to_contain_text("Report: Spring sale")
    drawn = page.evaluate(
        "['time', 'funnel', 'reasons', 'links'].map("
        "id => !!window.Chart.getChart('clarion-chart-' + id))"
    )
    assert drawn == [True, True, True, True]
    assert outside == []
    assert errors == []
    # and the page is no wider than the phone: wide tables scroll inside their box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator(".clarion-report-tiles dd").nth(1)).to_have_text("3,840")  # sent
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-390.png"), full_page=True)
