"""Every main admin page, at a laptop's width and a phone's: no serious or critical
WCAG 2.1 AA violation (axe-core), nothing wider than the screen, and a screenshot
for docs/ when $CLARION_SCREENSHOTS is set (`make screenshots`). Issue 10.

The pages are parametrised by language too, so that a zh-Hant run checks the same
pages; the screenshots are named ``<language>-<page>-<width>.png``. In zh-Hant each page
is also read for English words (``tests.browser.pages.latin_words``): only names, codes
and the scene's own data may be in Latin letters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from audiences.consent_values import CONSENT_ALIASES
from audiences.models import Audience, Consent, IdentityNamespace, ProfileImport
from audiences.profile_input import profile_input_parse
from audiences.services.audiences import audience_create
from audiences.services.imports import profile_import_run
from audiences.services.profiles import profile_upsert
from campaigns.models import Campaign, CampaignContent, ChannelConfiguration
from campaigns.services.demo import demo_seed
from core.models import ApiKey
from core.preferences import time_zone_names, user_preferences_set
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, ReportCounter
from delivery.services.sending import message_send_batch
from tests.browser.pages import axe_failures, english_on_page, overflowing, screenshot_save
from tests.conftest import ApiClientFactory
from tests.factories import CampaignFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.screenshots,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pages-pass-1"
LANGUAGES = ("en", "zh-hant")
# The pages a zh-Hant reader meets are read for English words at this width.
READ_AT = 1366
# A laptop, and a phone (iPhone 12 to 15: 390 x 844 CSS pixels).
VIEWPORTS = {1366: 768, 390: 844}
PROFILES = (
    ("ana@example.com", "gold", "Ana"),
    ("bartholomew.featherstonehaugh@example-department-store.com.tw", "gold", "Bartholomew"),
    ("chen.mei-ling@example.com", "gold", "美玲"),
    ("dan@example.com", "silver", "Dan"),
)
IMPORT_CSV = (
    "email,tier,consent.email\n"
    "eva@example.com,gold,opted_in\n"
    "fu@example.com,silver,opted_in\n"
    "not-an-email,gold,opted_in\n"
)


@dataclass(frozen=True)
class Scene:
    """What the pages show: the demo data, a draft, an audience, an import, an execution."""

    draft: Campaign
    newsletter: Campaign
    audience: Audience
    profile_import: ProfileImport
    execution: Execution


@dataclass(frozen=True)
class AdminPage:
    """One page to check: ``name`` names its screenshot, ``url`` is its path in a scene,
    ``ready`` is shown once the page has drawn what it fetches or computes."""

    name: str
    url: Callable[[Scene], str]
    ready: str = "#content"
    # What a person would do first, e.g. ask for the preview.
    prepare: Callable[[Page], None] | None = None


PAGES = (
    AdminPage("index", lambda s: "/admin/"),
    AdminPage("reports", lambda s: "/admin/reports/"),
    AdminPage("preferences", lambda s: "/admin/preferences/"),
    AdminPage("campaign-list", lambda s: "/admin/campaigns/campaign/"),
    AdminPage(
        "campaign-change",
        lambda s: f"/admin/campaigns/campaign/{s.draft.pk}/change/",
        "#clarion-preview-parts dd[data-part=subject]",
        prepare=lambda page: page.click("#clarion-preview-button"),
    ),
    AdminPage("campaign-review", lambda s: f"/admin/campaigns/campaign/{s.draft.pk}/review/"),
    AdminPage(
        "audience-change",
        lambda s: f"/admin/audiences/audience/{s.audience.pk}/change/",
        "#audience-sample",
    ),
    AdminPage("profile-import-add", lambda s: "/admin/audiences/profileimport/add/"),
    AdminPage(
        "profile-import",
        lambda s: f"/admin/audiences/profileimport/{s.profile_import.pk}/change/",
        ".field-progress progress",
    ),
    AdminPage("execution-list", lambda s: "/admin/delivery/execution/"),
    AdminPage(
        "execution-change",
        lambda s: f"/admin/delivery/execution/{s.execution.pk}/change/",
        "table.clarion-counts",
    ),
    AdminPage(
        "campaign-report",
        lambda s: f"/admin/campaigns/campaign/{s.newsletter.pk}/report/",
        "#clarion-chart-time",
    ),
)
CASES = [
    pytest.param(language, admin_page, width, id=f"{language}-{admin_page.name}-{width}")
    for language in LANGUAGES
    for admin_page in PAGES
    for width in VIEWPORTS
]


def _report_counters(campaign: Campaign) -> None:
    """A week of hourly rollups, as the report aggregates them."""
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
            count=count * (1 + h % 5),
        )
        for h in range(1, 24 * 7, 3)
        for locale, metric, key, count in (
            ("", "targeted", "", 43),  # counted before a locale is chosen
            ("en", "sent", "", 40),
            ("en", "delivered", "", 38),
            ("en", "opened_unique", "", 12),
            ("en", "clicked", "1", 4),  # link 1 of the version
            ("en", "clicked_unique", "1", 3),
            ("en", "clicked_messages", "", 3),
            ("en", "failed", "smtp_550", 1),
            ("en", "excluded", "no_consent", 2),
            ("en", "unsubscribed", "", 1),
        )
    )


def _profile_import() -> ProfileImport:
    """A finished import with one rejected row."""
    content = IMPORT_CSV.encode()
    profile_import = ProfileImport(
        namespace=IdentityNamespace.objects.get(code="email"), total_bytes=len(content)
    )
    profile_import.file.save("spring-members.csv", ContentFile(content), save=False)
    profile_import.save()
    assert profile_import_run(import_id=profile_import.pk)
    return profile_import


def _execution(api_client: ApiClientFactory, campaign: Campaign) -> Execution:
    response = api_client(EXECUTIONS_TRIGGER).post(
        "/api/v1/executions/unitary",
        {
            "requestId": "order-1042",
            "campaignId": str(campaign.pk),
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": email,
                    "profile": {"person": {"name": {"firstName": name}}},
                    "context": {"product": {"name": "Rain jacket"}},
                }
                for email, _tier, name in PROFILES[:3]
            ],
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    return Execution.objects.get(pk=UUID(response.json()["executionId"]))


@pytest.fixture
def scene(
    api_client: ApiClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    settings: SettingsWrapper,
    tmp_path: Path,
) -> Scene:
    settings.MEDIA_ROOT = tmp_path  # the import's file and its rejected rows
    # Send tasks run inline, in the process that publishes them (no broker here).
    monkeypatch.setattr(
        "delivery.enqueue._publish", lambda ids: message_send_batch(message_ids=ids)
    )
    seed = demo_seed(password=PASSWORD)
    for email, tier, name in PROFILES:
        profile_upsert(
            data=profile_input_parse(
                namespace="email",
                value=email,
                data={
                    "attributes": {"tier": tier, "person": {"name": {"firstName": name}}},
                    "consent": {"email": "opted_in"},
                },
            )
        )
    audience = audience_create(
        name="Gold members",
        kind=Audience.Kind.RULES,
        description="Members of the gold tier who accept marketing email.",
        rules={
            "combinator": "and",
            "conditions": [
                {"field": "attributes.tier", "operator": "equals", "value": "gold"},
                {"field": "consent.email", "operator": "equals", "value": "opted_in"},
            ],
        },
    )
    draft = CampaignFactory.create(
        name="Spring sale",
        category="marketing",
        audience=audience,
        channel_configuration=seed.channel_configuration,
        content={
            "en": {
                "subject": "Spring is here, {{ profile.person.name.firstName }}",
                "preheader": "Up to 40% off rain jackets this week",
                "html": (
                    "<p>Hi {{ profile.person.name.firstName }},</p>"
                    '<p>Our spring sale starts today. <a href="https://shop.example/spring">'
                    "See the sale</a></p>"
                    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
                ),
                "text": "Our spring sale starts today: https://shop.example/spring",
            },
            "zh-hant": {
                "subject": "{{ profile.person.name.firstName }}，春季特賣開跑",
                "html": (
                    "<p>{{ profile.person.name.firstName }} 您好：</p>"
                    '<p>春季特賣今天開始。<a href="https://shop.example/spring">看看特賣</a></p>'
                    '<p><a href="{{ unsubscribe_url }}">取消訂閱</a></p>'
                ),
                "text": "春季特賣今天開始：https://shop.example/spring",
            },
        },
    )
    _report_counters(seed.newsletter)
    return Scene(
        draft=draft,
        newsletter=seed.newsletter,
        audience=audience,
        profile_import=_profile_import(),
        execution=_execution(api_client, seed.campaign),
    )


def _open(page: Page, live_server: LiveServer, scene: Scene, language: str, at: AdminPage) -> None:
    """Logs in as the demo user, in ``language``, and opens the page once it is drawn.

    The language is the user's saved choice, which wins over the browser's
    (core.middleware), as it would for someone who chose it in the header.
    """
    page.set_default_timeout(15_000)
    user_preferences_set(user=User.objects.get(username="demo"), language=language)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_be_visible()
    page.goto(f"{live_server.url}{at.url(scene)}")
    page.wait_for_load_state("load")  # deferred scripts: the preview, the charts
    if at.prepare is not None:
        at.prepare(page)
    expect(page.locator(at.ready).first).to_be_visible()


def _viewport(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": VIEWPORTS[width]})


@pytest.mark.parametrize(("language", "admin_page", "width"), CASES)
def test_the_page_has_no_serious_accessibility_violation(
    page: Page,
    live_server: LiveServer,
    scene: Scene,
    language: str,
    admin_page: AdminPage,
    width: int,
) -> None:
    _viewport(page, width)
    _open(page, live_server, scene, language, admin_page)

    failures = axe_failures(page)

    assert failures == "", f"axe-core, WCAG 2.1 AA, {page.url}:\n{failures}"


@pytest.mark.parametrize(("language", "admin_page", "width"), CASES)
def test_the_page_is_no_wider_than_the_screen(
    page: Page,
    live_server: LiveServer,
    scene: Scene,
    language: str,
    admin_page: AdminPage,
    width: int,
) -> None:
    _viewport(page, width)
    _open(page, live_server, scene, language, admin_page)

    screenshot_save(page, f"{language}-{admin_page.name}-{width}")
    wider = overflowing(page)

    assert wider == [], f"Wider than {width} px, {page.url}:\n" + "\n".join(wider)


# Markup and Liquid between the words of a campaign's content, which pages show
# rendered (the preview) or in part (a subject in a list).
_CONTENT_SEPARATORS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<[^>]*>|\n")


def _scene_data() -> tuple[str, ...]:
    """What the scene's people typed, in whatever script they typed it: a zh-Hant page
    shows it as it is (campaign, audience and sender names, content, user names...)."""
    texts: list[str] = [*time_zone_names(), "Rain jacket", "order-1042"]
    # The import format's columns and consent values, which its help names as a file has them.
    texts += ["locale", "timeZone", "identities", "loyalty", "tier", *CONSENT_ALIASES]
    texts += list(Consent.Status.values)
    texts += list(IdentityNamespace.objects.values_list("code", flat=True))
    texts += [value for row in PROFILES for value in row]
    texts += [value for line in IMPORT_CSV.splitlines() for value in line.split(",")]
    texts += ["spring-members.csv"]
    for campaign in Campaign.objects.all():
        texts += [campaign.name, campaign.description]
    for content in CampaignContent.objects.all():
        for part in (content.subject, content.preheader, content.html, content.text):
            texts += [piece.strip() for piece in _CONTENT_SEPARATORS.split(part)]
    for audience in Audience.objects.all():
        texts += [audience.name, audience.description]
    for configuration in ChannelConfiguration.objects.all():
        texts += [configuration.name, configuration.from_name]
    texts += list(ApiKey.objects.values_list("name", flat=True))
    texts += list(User.objects.values_list("username", flat=True))
    texts += list(Group.objects.values_list("name", flat=True))
    return tuple(text for text in texts if text)


@pytest.mark.parametrize("admin_page", PAGES, ids=[p.name for p in PAGES])
def test_the_zh_hant_page_shows_no_english(
    page: Page, live_server: LiveServer, scene: Scene, admin_page: AdminPage
) -> None:
    _viewport(page, READ_AT)
    _open(page, live_server, scene, "zh-hant", admin_page)

    english = english_on_page(page, allowed=_scene_data())

    assert english == "", english
