"""Clarion's name and icon in a real browser: the header, the tab's title and icon, no 404s."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, Response, expect
from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_the_admin_shows_clarions_name_and_icon_and_nothing_404s(
    page: Page, live_server: LiveServer
) -> None:
    # Given an administrator, and every response the browser gets recorded
    User.objects.create_superuser("ana", "ana@example.com", "branding-pass-1")
    page.set_default_timeout(15_000)
    failed: list[str] = []

    def record(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", record)

    # When they sign in and land on the index
    page.goto(f"{live_server.url}/admin/login/")
    expect(page).to_have_title("Log in | Clarion")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "branding-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("ana")

    # Then header and title say Clarion, the icon loads (as the tab's icon too)
    expect(page).to_have_title("Dashboard | Clarion")
    expect(page.locator("#site-name")).to_have_text("Clarion")
    mark = page.locator("#site-name img.clarion-mark")
    expect(mark).to_be_visible()
    assert mark.evaluate("img => img.naturalWidth") > 0
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon == "/static/clarion/favicon.svg"
    assert page.request.get(f"{live_server.url}{icon}").status == 200
    ico = page.request.get(f"{live_server.url}/favicon.ico")
    assert ico.status == 200
    assert ico.headers["content-type"] == "image/svg+xml"
    assert "Django" not in page.content()
    assert failed == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-branding.png"))

    # And a page that does not exist shows Clarion's 404
    page.goto(f"{live_server.url}/admin-typo/")
    expect(page).to_have_title("Page not found | Clarion")
    expect(page.locator("h1")).to_have_text("Page not found")
    page.screenshot(path=str(SCREENSHOTS / "not-found.png"))
