"""The whole authoring walk-through in a real browser, in each language the admin speaks
(issue 10): a marketer logs in, switches the header to their language, chooses a time
zone, creates a campaign through the six numbered steps and previews it, and submits it
for approval; an approver approves and activates it; the marketer copies the curl sample
from the page, runs it, and follows the execution to its messages and the report.

In zh-Hant every page is read as a person sees it (``document.body.innerText``) and no
English may show but names and codes (``tests.browser.pages.latin_words``). With
$CLARION_SCREENSHOTS set, the pictures of docs/guide.md and docs/guide.zh-Hant.md are
saved on the way (`make screenshots`).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from shutil import which

import pytest
from django.contrib.auth.models import Group, User
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from audiences.models import IdentityNamespace
from campaigns.models import Campaign, Status
from core.apikeys import api_key_create
from core.preferences import time_zone_names, user_preferences_set
from core.roles import APPROVERS, MARKETERS, roles_ensure
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message, MessageStatus
from delivery.services.sending import message_send_batch
from tests.browser.pages import english_on_page, screenshot_save
from tests.factories import ChannelConfigurationFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.screenshots,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "walk-through-pass-1"
WIDTH, HEIGHT = 1366, 768
SWITCHER_NAMES = {"en": "English", "zh-hant": "繁體中文"}
# What the marketer types, in the language of the walk-through: the campaign's own data,
# which a zh-Hant page may show whatever its script.
CAMPAIGNS = {
    "en": {
        "locale": "en",
        "api_key": "Shop backend",
        "name": "Order shipped",
        "description": "Tells the customer the parcel is on its way.",
        "sender": "Shop email",
        "subject": "{{ profile.person.name.firstName }}, your order has shipped",
        "html": (
            "<p>Hi {{ profile.person.name.firstName }},</p>"
            "<p>Order {{ context.orderId }} is on its way.</p>"
            '<p><a href="https://shop.example/orders">Track your order</a></p>'
        ),
        "text": "Order {{ context.orderId }} is on its way: https://shop.example/orders",
        "first_name": "Ana",
        "preview_subject": "Ana, your order has shipped",
        "preview_order": "Order A-1042 is on its way.",
    },
    "zh-hant": {
        "locale": "zh-Hant",
        "api_key": "商店後台",
        "name": "訂單出貨通知",
        "description": "告訴顧客包裹已經寄出。",
        "sender": "商店電子郵件",
        "subject": "{{ profile.person.name.firstName }}，您的訂單已出貨",
        "html": (
            "<p>{{ profile.person.name.firstName }} 您好：</p>"
            "<p>訂單 {{ context.orderId }} 已經寄出。</p>"
            '<p><a href="https://shop.example/orders">查詢訂單</a></p>'
        ),
        "text": "訂單 {{ context.orderId }} 已經寄出：https://shop.example/orders",
        "first_name": "美玲",
        "preview_subject": "美玲，您的訂單已出貨",
        "preview_order": "訂單 A-1042 已經寄出。",
    },
}
# The end of the campaign's window, typed in the marketer's time zone (Asia/Taipei,
# UTC+8), and what is stored.
END_DATE, END_TIME = "2030-12-31", "23:00:00"
END_UTC = datetime(2030, 12, 31, 15, 0, tzinfo=UTC)
# A time as zh-Hant writes it (Django's zh_Hant formats): 2026年11月29日 16:00.
ZH_HANT_DATETIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}")


class Reader:
    """Reads each page the walk-through opens as a zh-Hant reader would: collects the
    English words it meets, to fail with all of them at once."""

    def __init__(self, language: str, allowed: tuple[str, ...]) -> None:
        self.language = language
        self.allowed = allowed
        self.leaks: list[str] = []

    def read(self, page: Page, *, also: tuple[str, ...] = ()) -> None:
        if self.language == "en":
            return
        # The curl sample is a command, read as it is; the words around it are not.
        curl = page.locator("#clarion-curl-sample")
        command = (curl.inner_text(),) if curl.count() else ()
        found = english_on_page(page, allowed=self.allowed + also + command)
        if found:
            self.leaks.append(found)


def _shoot(language: str) -> Callable[..., None]:
    def shoot(page: Page, name: str, **kwargs: object) -> None:
        screenshot_save(page, f"{language}-{name}-{WIDTH}", **kwargs)  # type: ignore[arg-type]

    return shoot


def _log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def _log_out(page: Page) -> None:
    page.locator("#logout-form button").click()
    expect(page.locator("#user-tools")).to_have_count(0)


def _curl_run(curl: str, *, placeholder: str, secret: str) -> tuple[int, dict[str, object]]:
    """Runs the copied request in a shell, the API key pasted in place of its placeholder,
    and returns the status and the JSON answer."""
    assert placeholder in curl, curl
    command = curl.replace(placeholder, secret)
    result = subprocess.run(
        ["sh", "-c", command + " --silent --show-error --write-out '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body, _newline, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body)


@pytest.fixture
def people(db: None) -> tuple[User, User]:
    """A marketer and an approver, in the role groups of core/roles.py."""
    roles_ensure()
    marketer = User.objects.create_user("meiling", "meiling@example.com", PASSWORD, is_staff=True)
    marketer.groups.add(Group.objects.get(name=MARKETERS))
    approver = User.objects.create_user("jianhong", "jianhong@example.com", PASSWORD, is_staff=True)
    approver.groups.add(Group.objects.get(name=APPROVERS))
    return marketer, approver


@pytest.mark.skipif(which("curl") is None, reason="runs the curl sample: needs curl")
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_marketer_authors_a_campaign_an_approver_activates_it_and_the_curl_sample_runs(
    page: Page,
    live_server: LiveServer,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
    people: tuple[User, User],
    language: str,
) -> None:
    # Given an installation that requires approval, an email sender, and an API key
    # an administrator created for the shop's backend
    settings.CLARION_REQUIRE_APPROVAL = True
    settings.CLARION_PUBLIC_URL = live_server.url  # where the curl sample sends its call
    # Send tasks run inline, in the process that publishes them (no broker here).
    monkeypatch.setattr(
        "delivery.enqueue._publish", lambda ids: message_send_batch(message_ids=ids)
    )
    marketer, approver = people
    text = CAMPAIGNS[language]
    sender = ChannelConfigurationFactory.create(name=text["sender"])
    key, secret = api_key_create(name=text["api_key"], scopes=[EXECUTIONS_TRIGGER])
    # The approver reads the admin in the same language (their saved choice).
    user_preferences_set(user=approver, language=language)
    own = (
        text["name"],
        text["description"],
        text["sender"],
        text["first_name"],
        marketer.username,
        approver.username,
        sender.from_name,
        sender.from_email,
        key.name,
        # Identity types by their codes, as the API names them (email, phone, ecid...).
        *IdentityNamespace.objects.values_list("code", flat=True),
    )
    reader = Reader(language, own)
    shoot = _shoot(language)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_default_timeout(15_000)

    # When the marketer logs in and switches the header to their language
    _log_in(page, live_server, marketer.username)
    if language != "en":
        page.locator("#user-tools").get_by_role("button", name=SWITCHER_NAMES[language]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#user-tools .clarion-language [aria-current]")).to_have_text(
        SWITCHER_NAMES[language]
    )
    reader.read(page)

    # and chooses their time zone on the Preferences page
    page.goto(f"{live_server.url}/admin/preferences/")
    page.select_option("#id_time_zone", "Asia/Taipei")
    reader.read(page, also=time_zone_names())
    shoot(page, "guide-preferences")
    page.locator("#content-main [type=submit]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    # Then they create the campaign through the six numbered steps
    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    reader.read(page)
    page.locator(".object-tools a.addlink").click()
    expect(page.locator("#id_name")).to_be_visible()
    headings = [h.strip() for h in page.locator("#clarion-steps h2").all_inner_texts() if h.strip()]
    with translation.override(language):
        steps = [
            gettext(step)
            for step in (
                "1. Properties",
                "2. Action",
                "3. Content",
                "4. Audience",
                "5. Schedule",
                "6. Review & activate",
            )
        ]
        placeholder = gettext("<your API key>")
    assert [h for h in headings if h[:2] in {"1.", "2.", "3.", "4.", "5.", "6."}] == steps
    page.fill("#id_name", text["name"])
    page.fill("#id_description", text["description"])
    page.select_option("#id_category", "transactional")
    page.select_option("#id_channel", "email")
    page.select_option("#id_channel_configuration", str(sender.pk))
    page.fill("#id_default_locale", text["locale"])
    page.fill("#id_contents-0-locale", text["locale"])
    page.fill("#id_contents-0-subject", text["subject"])
    page.fill("#id_contents-0-html", text["html"])
    page.fill("#id_contents-0-text", text["text"])
    page.check("#id_create_new_profiles")
    page.fill("#id_end_at_0", END_DATE)
    page.fill("#id_end_at_1", END_TIME)
    reader.read(page)
    shoot(page, "guide-campaign-add")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    campaign = Campaign.objects.get()
    assert campaign.status == Status.DRAFT
    assert campaign.end_at == END_UTC  # typed in Taipei time

    # and preview it with a sample profile and context
    page.fill(
        "#clarion-preview-profile",
        json.dumps({"person": {"name": {"firstName": text["first_name"]}}}, ensure_ascii=False),
    )
    page.fill("#clarion-preview-context", '{"orderId": "A-1042"}')
    page.click("#clarion-preview-button")
    expect(page.locator("#clarion-preview-parts dd[data-part=subject]")).to_have_text(
        text["preview_subject"]
    )
    html = page.frame_locator("#clarion-preview-parts iframe").locator("p")
    expect(html.nth(1)).to_have_text(text["preview_order"])
    reader.read(page, also=("A-1042",))
    shoot(page, "guide-campaign-preview", part=page.locator(".clarion-preview"))

    # and submit it for approval from the review page
    page.click("#clarion-open-review")
    expect(page.locator("button[value=submit_for_review]")).to_be_enabled()
    expect(page.locator("#clarion-review-errors li.clarion-finding-error")).to_have_count(0)
    reader.read(page)
    shoot(page, "guide-campaign-review")
    page.click("button[value=submit_for_review]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW
    reader.read(page)
    _log_out(page)

    # When the approver opens the campaign from their dashboard and approves it
    page.goto(f"{live_server.url}/admin/login/")
    reader.read(page)
    shoot(page, "guide-login")
    _log_in(page, live_server, approver.username)
    expect(page.locator("html")).to_have_attribute("lang", language)
    waiting = page.locator(".clarion-attention-list").get_by_role("link", name=text["name"])
    reader.read(page)
    shoot(page, "guide-approver-dashboard")
    waiting.click()
    expect(page.locator("button[value=approve]")).to_be_enabled()
    reader.read(page)
    shoot(page, "guide-approval")
    page.click("button[value=approve]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE
    reader.read(page)
    _log_out(page)

    # Then the marketer, back in their language, copies the curl sample of the live campaign
    _log_in(page, live_server, marketer.username)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    page.locator("#result_list").get_by_role("link", name=text["name"]).click()
    expect(page.locator("#clarion-curl-sample")).to_be_visible()
    reader.read(page)
    if language != "en":
        # Times are written for the language, in the chosen zone.
        expect(page.locator(".clarion-versions time").first).to_have_text(ZH_HANT_DATETIME)
    shoot(page, "guide-campaign-live")
    shoot(page, "guide-curl", part=page.locator(".clarion-curl"))
    page.click("#clarion-copy-curl")
    curl = page.evaluate("navigator.clipboard.readText()")
    assert curl == page.locator("#clarion-curl-sample").inner_text()

    # and runs it, with the API key in place of its placeholder: the call is accepted
    status, answer = _curl_run(curl, placeholder=placeholder, secret=secret)
    assert status == 202, answer
    execution = Execution.objects.get(pk=str(answer["executionId"]))
    assert execution.campaign_id == campaign.pk
    message = Message.objects.get(execution=execution)
    assert message.status == MessageStatus.SENT
    assert shlex.split(curl.replace("\\\n", " "))[:3] == ["curl", "-X", "POST"]

    # and follows the execution to its message
    page.goto(f"{live_server.url}/admin/delivery/execution/")
    reader.read(page, also=(str(execution.pk), "ana@example.com"))
    shoot(page, "guide-executions")
    page.goto(f"{live_server.url}/admin/delivery/execution/{execution.pk}/change/")
    reader.read(page)
    shoot(page, "guide-execution")
    page.goto(f"{live_server.url}/admin/delivery/message/")
    reader.read(page)
    shoot(page, "guide-messages")
    page.goto(f"{live_server.url}/admin/delivery/message/{message.pk}/change/")
    reader.read(page)
    shoot(page, "guide-message")

    # and reads the campaign's report
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("a.clarion-report-link")
    page.wait_for_load_state("load")  # the charts' scripts are deferred
    expect(page.locator("#clarion-chart-time")).to_be_visible()
    reader.read(page)

    assert reader.leaks == [], "\n".join(reader.leaks)
