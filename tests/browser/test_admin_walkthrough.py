"""A marketer walks through the campaign steps in a real browser, from draft to live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Campaign, Status
from tests.factories import (
    CampaignFactory,
    ChannelConfigurationFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_create_fix_preview_activate_and_copy_the_curl_request(
    page: Page, live_server: LiveServer
) -> None:
    User.objects.create_superuser("ana", "ana@example.com", "walk-through-pass-1")
    ChannelConfigurationFactory.create(name="Shop email")
    page.set_default_timeout(15_000)

    # Log in.
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "walk-through-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("ana")

    # 1-5: the steps, with two locales and a template that does not parse.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    headings = page.locator("#clarion-steps h2").all_inner_texts()
    steps = [h.strip() for h in headings if h.strip()[:2] in {"1.", "2.", "3.", "4.", "5.", "6."}]
    assert steps == [
        "1. Properties",
        "2. Action",
        "3. Content",
        "4. Audience",
        "5. Schedule",
        "6. Review & activate",
    ]
    page.fill("#id_name", "Order shipped")
    page.fill("#id_description", "Tells the customer the parcel is on its way.")
    page.select_option("#id_category", "transactional")
    page.select_option("#id_channel", "email")
    page.select_option("#id_channel_configuration", label="Shop email (Email)")
    page.fill("#id_default_locale", "en")
    page.fill("#id_contents-0-locale", "en")
    page.fill("#id_contents-0-subject", "Hi {{ profile.firstName }}, it shipped")
    page.fill("#id_contents-0-html", "<p>Order {{ context.orderId }}\n{% if %}</p>")
    page.fill("#id_contents-0-text", "Order {{ context.orderId }}")
    # SMS and push fields are hidden for an email campaign.
    expect(page.locator("#id_contents-0-body")).to_be_hidden()
    page.click("#contents-group .add-row a")
    page.fill("#id_contents-1-locale", "fr")
    page.fill("#id_contents-1-subject", "Bonjour {{ profile.firstName }}")
    page.fill("#id_contents-1-html", "<p>Commande {{ context.orderId }}</p>")
    page.click("input[name=_continue]")

    # The template error is shown at its field, and nothing was saved.
    error = page.locator(".field-html .errorlist").first
    expect(error).to_contain_text("Template error: missing expression (line 2, column 4)")
    assert Campaign.objects.count() == 0

    page.fill(
        "#id_contents-0-html", "<p>Order {{ context.orderId }} for {{ profile.firstName }}</p>"
    )
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    campaign = Campaign.objects.get()
    assert sorted(campaign.contents.values_list("locale", flat=True)) == ["en", "fr"]

    # The sample is pre-filled with the variables the content uses.
    expect(page.locator("#clarion-preview-context")).to_have_value('{\n  "orderId": "<orderId>"\n}')
    # A variable missing from the sample is a warning beside the preview.
    page.fill("#clarion-preview-profile", "{}")
    page.click("#clarion-preview-button")
    expect(page.locator("#clarion-preview-warnings li")).to_have_count(2)
    expect(page.locator("#clarion-preview-warnings li").first).to_have_text(
        "/content/en/subject: {{ profile.firstName }} is missing or empty in the sample data, "
        "so it renders as nothing."
    )
    # Preview with a sample profile and context.
    page.fill("#clarion-preview-profile", '{"firstName": "Ana"}')
    page.fill("#clarion-preview-context", '{"orderId": "A-1042"}')
    page.click("#clarion-preview-button")
    expect(page.locator("#clarion-preview-parts dd[data-part=subject]")).to_have_text(
        "Hi Ana, it shipped"
    )
    expect(page.locator("#clarion-preview-warnings")).to_be_hidden()
    frame = page.frame_locator("#clarion-preview-parts iframe")
    expect(frame.locator("p")).to_have_text("Order A-1042 for Ana")
    # A broken sample is explained in words.
    page.fill("#clarion-preview-context", "{orderId: }")
    page.click("#clarion-preview-button")
    expect(page.locator("#clarion-preview-errors")).to_contain_text(
        "The sample context is not valid JSON"
    )
    page.fill("#clarion-preview-context", '{"orderId": "A-1042"}')
    page.click("#clarion-preview-button")
    expect(page.locator("#clarion-preview-errors")).to_be_hidden()
    _screenshot(page, "campaign-change-draft.png")
    page.locator(".clarion-preview").screenshot(path=str(SCREENSHOTS / "campaign-preview.png"))
    page.screenshot(path=str(SCREENSHOTS / "campaign-top.png"))

    # 6. Review & activate.
    page.click("#clarion-open-review")
    _screenshot(page, "campaign-review.png")
    expect(page.locator("#content-main")).to_contain_text("No errors")
    page.click("button[value=activate]")
    expect(page.locator(".messagelist")).to_contain_text("The campaign is now Live.")
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE

    # The live campaign: read-only, with its ready-to-paste curl request.
    curl = page.locator("#clarion-curl-sample").inner_text()
    assert "/api/v1/executions/unitary" in curl
    for variable in ('"firstName"', '"orderId"', '"profile"', '"context"'):
        assert variable in curl
    expect(page.locator("#id_name")).to_have_count(0)
    expect(page.locator(".clarion-versions")).to_contain_text("v1")
    _screenshot(page, "campaign-change-live.png")
    page.locator(".clarion-step-review").screenshot(
        path=str(SCREENSHOTS / "campaign-live-curl.png")
    )


def _log_in(page: Page, live_server: LiveServer) -> None:
    User.objects.create_superuser("ana", "ana@example.com", "walk-through-pass-1")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "walk-through-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("ana")


def test_review_errors_block_activation_and_lead_to_their_fields(
    page: Page, live_server: LiveServer
) -> None:
    # A draft with errors (no sender, a French email without subject, an end in the past)
    # and a warning (click tracking without links).
    campaign = CampaignFactory.create(
        name="Spring sale",
        channel_configuration=None,
        end_at=timezone.now() - timedelta(days=1),
        content={
            "en": {"subject": "Hi", "html": "<p>no link</p>"},
            "fr": {"subject": "", "html": "<p>Bonjour</p>"},
        },
    )
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/review/")
    errors = page.locator("#clarion-review-errors li.clarion-finding-error")
    expect(errors).to_have_count(3)
    expect(errors.first).to_contain_text("Error: Choose a channel configuration")
    # Errors are red and are not links themselves; the link is "Go to field".
    assert errors.first.evaluate("e => getComputedStyle(e).color") == "rgb(186, 33, 33)"
    expect(errors.first.locator(".clarion-finding-text a")).to_have_count(0)
    warning = page.locator("#clarion-review-warnings li.clarion-finding-warning")
    expect(warning).to_contain_text("Warning: Click tracking is on")
    expect(page.locator("button[value=activate]")).to_be_disabled()
    expect(page.locator("#clarion-blocked-note")).to_contain_text("Fix the errors above first")
    _screenshot(page, "campaign-review-errors.png")

    # "Go to field" on the missing French subject opens the change form at that row.
    page.locator("li[data-code=email_subject_missing] .clarion-go-to-field").click()
    assert page.url.endswith(
        f"/admin/campaigns/campaign/{campaign.pk}/change/#field-contents-1-subject"
    )
    row = page.locator("#field-contents-1-subject")
    expect(row).to_have_class("form-row field-subject clarion-targeted")
    expect(row).to_be_in_viewport()
    _screenshot(page, "campaign-go-to-field.png")

    # A split date-time field has no element of its own id: its row is the target.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/review/")
    page.locator("li[data-code=schedule_end_in_past] .clarion-go-to-field").click()
    expect(page.locator("#field-end_at")).to_have_class(
        "flex-container fieldBox field-end_at clarion-targeted"
    )

    # The server refuses activation anyway (a forged request).
    response = page.request.post(
        f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/action/activate/",
        headers={"X-CSRFToken": page.context.cookies()[0]["value"]},
        form={},
    )
    assert response.ok
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


def test_the_action_step_follows_the_chosen_channel(page: Page, live_server: LiveServer) -> None:
    ChannelConfigurationFactory.create(name="Shop email")
    SmsConfigurationFactory.create(name="Shop SMS")
    PushConfigurationFactory.create(name="Shop app")
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    configuration = page.locator("#id_channel_configuration option")
    opens = page.locator(".fieldBox.field-track_opens")
    clicks = page.locator(".fieldBox.field-track_clicks")

    # Email: its sender only, opens and clicks.
    expect(configuration).to_have_text(["---------", "Shop email (Email)"])
    expect(opens).to_be_visible()
    expect(clicks).to_be_visible()
    page.select_option("#id_channel_configuration", label="Shop email (Email)")

    # SMS: the SMS sender replaces it (the email one is no longer chosen); clicks only.
    page.select_option("#id_channel", "sms")
    expect(configuration).to_have_text(["---------", "Shop SMS (SMS)"])
    expect(page.locator("#id_channel_configuration")).to_have_value("")
    expect(opens).to_be_hidden()
    expect(page.locator(".field-track_opens .help").first).to_be_hidden()
    expect(clicks).to_be_visible()

    # Push: the app, and no tracking at all.
    page.select_option("#id_channel", "push")
    expect(configuration).to_have_text(["---------", "Shop app (Push)"])
    expect(page.locator(".form-row.field-track_opens")).to_be_hidden()

    # Sender, namespace and audience can be added or edited here, not deleted.
    for name in ("channel_configuration", "identity_namespace", "audience"):
        expect(page.locator(f"#add_id_{name}")).to_have_count(1)  # audience: marketing only
        expect(page.locator(f"#delete_id_{name}")).to_have_count(0)
    page.select_option("#id_channel", "sms")
    page.locator("fieldset:has(#fieldset-0-1-heading)").screenshot(
        path=str(SCREENSHOTS / "campaign-action-sms.png")
    )
