"""Choosing a language and a time zone in a real browser: the switcher on the login page
and in the header, the Preferences page, and times shown in the chosen zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from core.apikeys import api_key_create
from core.models import ApiKey, UserPreference

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = [1366, 390]


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_login_page_switches_language_and_the_user_keeps_it(
    page: Page, live_server: LiveServer, width: int
) -> None:
    # Given a user, on the login page, in English
    User.objects.create_superuser("ana", "ana@example.com", "prefs-pass-1")
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/admin/login/", wait_until="networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _shoot(page, f"en-login-switcher-{width}.png")

    # When they choose 繁體中文 there
    page.get_by_role("button", name="繁體中文").click()

    # Then the login page speaks it, with English offered back
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(page.locator(".clarion-language [aria-current]")).to_have_text("繁體中文")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    _fits(page)
    _shoot(page, f"zh-hant-login-switcher-{width}.png")

    # And, logged in, switching in the header is remembered for the user
    page.fill("#id_username", "ana")
    page.fill("#id_password", "prefs-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("ana")
    page.locator("#user-tools").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert UserPreference.objects.get(user__username="ana").language == "en"
    _fits(page)
    _shoot(page, f"en-header-switcher-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_preferences_set_the_time_zone_and_times_show_utc_on_hover(
    page: Page, live_server: LiveServer, width: int
) -> None:
    # Given a user and an API key created at 08:00 UTC
    User.objects.create_superuser("ana", "ana@example.com", "prefs-pass-1")
    key, _secret = api_key_create(name="Shop backend", scopes=["campaigns:read"])
    ApiKey.objects.filter(pk=key.pk).update(created_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "prefs-pass-1")
    page.click("input[type=submit]")

    # When they open Preferences from the header and choose Asia/Taipei
    page.locator("#user-tools").get_by_role("link", name="Preferences").click()
    expect(page).to_have_title("Preferences | Clarion")
    page.get_by_label("Time zone").select_option("Asia/Taipei")
    _fits(page)
    _shoot(page, f"en-preferences-{width}.png")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Your preferences were saved.")

    # Then the key's time shows in Taipei time, UTC on hover
    page.goto(f"{live_server.url}/admin/core/apikey/")
    created = page.locator("td.field-created_at time")
    expect(created).to_have_text("Nov. 29, 2026, 4 p.m.")
    expect(created).to_have_attribute("title", "2026-11-29 08:00 UTC")
    expect(created).to_have_attribute("datetime", "2026-11-29T08:00:00Z")
    _fits(page)
    _shoot(page, f"en-apikey-list-taipei-{width}.png")

    # And the key's page names each scope by what it allows, its code beside it
    page.get_by_role("link", name="Shop backend").click()
    expect(page.get_by_label("Read campaigns, versions and channel configurations")).to_be_checked()
    _fits(page)
    _shoot(page, f"en-apikey-change-{width}.png")
