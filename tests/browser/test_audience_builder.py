"""A marketer builds a rule-based audience in the browser and gives it to a marketing campaign."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from audiences.models import Audience, Profile
from audiences.profile_input import profile_input_parse
from audiences.services.profiles import profile_upsert
from campaigns.models import Campaign
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
RULES = {
    "combinator": "and",
    "conditions": [
        {"field": "attributes.tier", "operator": "equals", "value": "gold"},
        {
            "combinator": "or",
            "conditions": [{"field": "consent.email", "operator": "equals", "value": "opted_in"}],
        },
    ],
}
AUDIENCE_MISSING = "A marketing campaign needs an audience: choose who it goes to."
EMPTY_VALUE = (
    "Give a value: an empty one would match nothing. For profiles without a value, "
    "use “does not exist”."
)


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _profile(email: str, data: dict[str, Any]) -> Profile:
    profile, created = profile_upsert(
        data=profile_input_parse(namespace="email", value=email, data=data)
    )
    assert created
    return profile


def _log_in(page: Page, live_server: LiveServer) -> None:
    User.objects.create_superuser("mia", "mia@example.com", "audience-pass-1")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "audience-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("mia")


def test_build_rules_see_size_and_sample_then_fix_an_error_and_target_a_campaign(
    page: Page, live_server: LiveServer
) -> None:
    ana = _profile(
        "ana@example.com", {"attributes": {"tier": "gold"}, "consent": {"email": "opted_in"}}
    )
    _profile(
        "ben@example.com", {"attributes": {"tier": "silver"}, "consent": {"email": "opted_in"}}
    )
    cleo = _profile(
        "cleo@example.com", {"attributes": {"tier": "gold"}, "consent": {"email": "opted_in"}}
    )
    campaign = CampaignFactory.create(name="Spring sale", category="marketing")
    page.set_default_timeout(15_000)
    _log_in(page, live_server)

    # Add audience, rule-based: tier equals gold, and an OR group on email consent.
    page.goto(f"{live_server.url}/admin/audiences/audience/add/")
    page.fill("#id_name", "Gold members")
    page.select_option("#id_kind", label="Rule-based")
    builder = page.locator("#rule-builder")
    expect(builder.locator(".rule-condition")).to_have_count(1)
    first = builder.locator(".rule-condition").first
    expect(first.locator(".rule-field")).to_have_value("attributes")
    first.locator(".rule-path").fill("tier")
    expect(first.locator(".rule-operator")).to_have_value("equals")
    first.locator(".rule-value").fill("gold")
    builder.locator(".rule-add-group").first.click()
    nested = builder.locator(".rule-group .rule-group")
    expect(nested).to_have_count(1)
    expect(nested.locator(".rule-combinator")).to_have_value("or")
    nested.locator(".rule-field").select_option(label="Email consent")
    expect(nested.locator(".rule-value")).to_have_value("opted_in")  # the first status
    # The JSON view follows the builder as it is edited, before any save.
    page.click("text=Show the rules as JSON")
    expect(page.locator("#id_rules")).to_be_visible()
    assert json.loads(page.locator("#id_rules").input_value()) == RULES
    page.click("text=Show the rules as JSON")
    expect(page.locator("#id_rules")).to_be_hidden()
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    audience = Audience.objects.get()
    assert audience.kind == Audience.Kind.RULES
    assert audience.rules == RULES
    # The estimate and the sample, from the saved rules.
    expect(page.locator(".audience-estimate")).to_contain_text("2 profiles match now.")
    expect(page.locator("#audience-estimate")).to_have_text("2")
    sample = page.locator("#audience-sample tbody tr")
    expect(sample).to_have_count(2)
    rows = {
        cells[0].strip(): cells[1].strip()
        for cells in (row.locator("td").all_inner_texts() for row in sample.all())
    }
    # each profile named by its primary identity, linked to its page
    assert rows == {
        "email:ana@example.com": "email:ana@example.com",
        "email:cleo@example.com": "email:cleo@example.com",
    }
    for person in (ana, cleo):
        expect(sample.get_by_role("link", name=str(person))).to_have_attribute(
            "href", f"/admin/audiences/profile/{person.pk}/change/"
        )
    # The builder shows the saved rules again.
    expect(builder.locator(".rule-path")).to_have_value("tier")
    expect(builder.locator(".rule-group .rule-group .rule-field")).to_have_value("consent.email")
    _screenshot(page, "audience-rules-saved.png")

    # An empty value: the builder says so at the row, in words, and does not submit.
    first = builder.locator(".rule-condition").first
    first.locator(".rule-value").fill("")
    page.click("input[name=_continue]")

    bad_row = page.locator("#rule-builder .rule-condition").first
    expect(bad_row).to_have_class("rule-condition rule-has-error")
    expect(bad_row.locator(".rule-errors")).to_have_text(EMPTY_VALUE)
    expect(page.locator(".errornote")).to_have_count(0)  # nothing was sent
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")  # same page
    _screenshot(page, "audience-rules-empty-value.png")
    audience.refresh_from_db()
    assert audience.rules == RULES

    # A number operator with no number: the same, before anything is sent.
    first.locator(".rule-operator").select_option(label="is greater than")
    page.click("input[name=_continue]")
    expect(bad_row.locator(".rule-errors")).to_have_text(EMPTY_VALUE)
    expect(page.locator(".errornote")).to_have_count(0)

    # A value the server cannot read: its error is said in words at the row, nothing saved.
    first.locator(".rule-operator").select_option(label="is before")
    first.locator(".rule-value").fill("someday")
    page.click("input[name=_continue]")

    expect(page.locator(".errornote")).to_be_visible()
    date_error = "Give an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T09:30:00Z."
    expect(page.locator("#id_rules_error")).to_have_text(f"Condition 1 › value: {date_error}")
    bad_row = page.locator("#rule-builder .rule-condition").first
    expect(bad_row).to_have_class("rule-condition rule-has-error")
    expect(bad_row.locator(".rule-errors")).to_have_text(date_error)
    _screenshot(page, "audience-rules-error.png")
    audience.refresh_from_db()
    assert audience.rules == RULES

    # The marketing campaign: without an audience the review refuses it.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("#clarion-open-review")
    expect(page.locator("#clarion-review-errors li")).to_have_count(1)
    expect(page.locator("#clarion-review-errors li")).to_contain_text(AUDIENCE_MISSING)

    # Step 4 (Audience): choose the audience, save, review again.
    page.click("text=Back to the campaign")
    page.select_option("#id_audience", label="Gold members")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.audience_id == audience.pk
    page.click("#clarion-open-review")
    expect(page.locator(".clarion-ok")).to_have_text("No errors: the campaign can be activated.")
    expect(page.locator("#clarion-review-errors")).to_have_count(0)
    expect(page.locator("#content-main")).not_to_contain_text(AUDIENCE_MISSING)
    # The audience is not empty either (2 profiles), so no warning about it.
    expect(page.locator("#content-main")).to_contain_text("No warnings.")
    _screenshot(page, "campaign-review-with-audience.png")
