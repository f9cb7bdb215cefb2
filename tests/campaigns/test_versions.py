"""Frozen versions: the typed snapshot reader, its schema number, and version_render."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audiences.models import Audience
from campaigns.liquid import VERSION_TEMPLATES
from campaigns.models import Campaign, CampaignVersion, Category
from campaigns.rendering import EmptyVariable, RenderedMessage
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_update
from campaigns.versions import (
    AudienceSettings,
    Schedule,
    SnapshotSchemaError,
    Tracking,
    version_render,
    version_snapshot,
)
from core.actors import Actor
from core.channels import Channel
from core.errors import InvalidInput
from tests.factories import (
    AccessLabelFactory,
    CampaignFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _live(campaign: Campaign) -> CampaignVersion:
    campaign = lifecycle.campaign_activate(campaign=campaign, actor=SYSTEM)
    assert campaign.live_version is not None
    return campaign.live_version


def test_activation_freezes_schema_version_1_and_the_reader_types_every_field() -> None:
    label = AccessLabelFactory.create(name="orders")
    audience = Audience.objects.create(name="Everyone", kind=Audience.Kind.STATIC)
    campaign = CampaignFactory.create(
        category="marketing",
        audience=audience,
        throttle_rate=20,
        track_opens=False,
        start_at=datetime(2020, 1, 1, 9, 30, tzinfo=UTC),
        end_at=datetime(2099, 2, 3, 4, 5, tzinfo=UTC),
        locale_attribute="preferences.language",
        content={
            "en": {"subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"},
            "fr": {"subject": "Salut", "html": "<p>Salut</p>", "text": ""},
        },
    )
    campaign.access_labels.set([label])

    version = _live(campaign)
    snapshot = version_snapshot(version)

    assert version.snapshot["schemaVersion"] == 1
    assert snapshot.version_id == version.pk
    assert snapshot.campaign_id == campaign.pk
    assert (snapshot.number, snapshot.schema_version, snapshot.name) == (1, 1, campaign.name)
    assert snapshot.category is Category.MARKETING
    assert snapshot.channel is Channel.EMAIL
    assert snapshot.channel_configuration_id == campaign.channel_configuration_id
    assert snapshot.tracking == Tracking(opens=False, clicks=True)
    assert snapshot.throttle_rate == 20
    assert snapshot.audience == AudienceSettings(
        identity_namespace="email", create_new_profiles=False, audience_id=audience.pk
    )
    assert snapshot.schedule == Schedule(
        start_at=datetime(2020, 1, 1, 9, 30, tzinfo=UTC),
        end_at=datetime(2099, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert snapshot.schedule.start_at is not None and snapshot.schedule.start_at.tzinfo is not None
    assert (snapshot.default_locale, snapshot.locale_attribute) == ("en", "preferences.language")
    assert snapshot.access_labels == ("orders",)
    assert {locale: dict(parts) for locale, parts in snapshot.content.items()} == {
        "en": {"subject": "Hi", "preheader": "", "html": "<p>Hi</p>", "text": "Hi"},
        "fr": {"subject": "Salut", "preheader": "", "html": "<p>Salut</p>", "text": ""},
    }
    assert isinstance(snapshot.content, MappingProxyType)
    assert snapshot.channel_settings["fromEmail"] == "shop@example.com"
    # The columns the dispatcher and visibility filter on hold the same facts.
    assert (version.start_at, version.end_at) == (campaign.start_at, campaign.end_at)
    assert list(version.access_labels.values_list("name", flat=True)) == ["orders"]


def test_a_snapshot_frozen_before_the_schema_number_reads_as_version_1() -> None:
    version = _live(CampaignFactory.create())
    old = {key: value for key, value in version.snapshot.items() if key != "schemaVersion"}
    CampaignVersion.objects.filter(pk=version.pk).update(snapshot=old)
    stored = CampaignVersion.objects.get(pk=version.pk)

    snapshot = version_snapshot(stored)

    assert "schemaVersion" not in stored.snapshot
    assert snapshot.schema_version == 1
    assert snapshot.content["en"]["subject"] == "Thanks {{ profile.person.name.firstName }}"


@pytest.mark.parametrize("number", [2, 0, "1", True])
def test_an_unknown_schema_number_is_refused_with_a_clear_error(number: object) -> None:
    version = _live(CampaignFactory.create())
    CampaignVersion.objects.filter(pk=version.pk).update(
        snapshot={**version.snapshot, "schemaVersion": number}
    )
    stored = CampaignVersion.objects.get(pk=version.pk)

    with pytest.raises(SnapshotSchemaError) as caught:
        version_snapshot(stored)

    assert str(caught.value) == (
        f"Campaign version {version.pk} was frozen with snapshot schema {number!r}; this "
        "Clarion reads schema 1. Upgrade Clarion on every process before reading it."
    )


def test_the_snapshot_is_read_once_per_version() -> None:
    version = _live(CampaignFactory.create())
    first = version_snapshot(version)
    other = CampaignVersion.objects.get(pk=version.pk)

    with CaptureQueriesContext(connection) as queries:
        again = version_snapshot(other)

    assert again is first
    assert len(queries) == 0


def test_version_render_falls_back_and_reads_the_version_not_the_draft_edits() -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {"subject": "Hi {{ profile.name }}", "html": "<p>{{ context.x }}</p>"},
            "pt": {"subject": "Olá {{ profile.name }}", "html": "<p>{{ context.x }}</p>"},
        }
    )
    version = _live(campaign)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(
        campaign=campaign,
        data={"content": {"en": {"subject": "Draft"}, "pt": {"subject": "Rascunho"}}},
        actor=SYSTEM,
    )

    brazil = version_render(version=version, locale="pt-BR", profile={"name": "Ana"}, context={})
    german = version_render(
        version=version, locale="de-DE", profile={"name": "Jo"}, context={"x": 1}
    )

    assert brazil == RenderedMessage(
        "email",
        "pt",
        {"subject": "Olá Ana", "preheader": "", "html": "<p></p>", "text": ""},
        (EmptyVariable("/content/pt/html", "context.x"),),
    )
    assert german.locale == "en"
    assert dict(german.parts) == {
        "subject": "Hi Jo",
        "preheader": "",
        "html": "<p>1</p>",
        "text": "",
    }
    assert german.empty_variables == ()
    assert VERSION_TEMPLATES.get((version.pk, "pt", "subject")) is not None
    assert VERSION_TEMPLATES.get((version.pk, "en", "html")) is not None


def test_version_render_with_no_content_for_the_locale_or_default_is_refused() -> None:
    version = _live(CampaignFactory.create())
    CampaignVersion.objects.filter(pk=version.pk).update(
        snapshot={**version.snapshot, "defaultLocale": "de"}
    )

    with pytest.raises(InvalidInput) as caught:
        version_render(
            version=CampaignVersion.objects.get(pk=version.pk),
            locale="fr",
            profile={},
            context={},
        )

    assert caught.value.code == "no_content_for_locale"
    assert [(e.pointer, e.detail) for e in caught.value.errors] == [
        ("/locale", "No content for this locale or its fallbacks.")
    ]


def _every_part(template: str) -> dict[str, str]:
    return {
        "subject": template,
        "preheader": template,
        "html": f"<p>{template}</p>",
        "text": template,
    }


def test_untrusted_data_is_escaped_in_html_and_raw_in_every_other_part_of_every_channel() -> None:
    data = {"profile": {"bio": SCRIPT}, "context": {"note": SCRIPT}}
    template = "{{ profile.bio }}|{{ context.note }}"
    email = _live(CampaignFactory.create(content={"en": _every_part(template)}))
    sms = _live(
        CampaignFactory.create(
            channel="sms",
            channel_configuration=SmsConfigurationFactory.create(),
            track_clicks=False,
            content={"en": {"body": template}},
        )
    )
    push = _live(
        CampaignFactory.create(
            channel="push",
            channel_configuration=PushConfigurationFactory.create(),
            content={
                "en": {
                    "title": template,
                    "body": template,
                    "deep_link": "https://shop.example/p?a={{ profile.bio }}&b={{ context.note }}",
                    "image_url": "https://cdn.example/i?a={{ profile.bio }}&b={{ context.note }}",
                }
            },
        )
    )

    rendered = {
        channel: dict(version_render(version=version, locale="en", **data).parts)
        for channel, version in {"email": email, "sms": sms, "push": push}.items()
    }

    raw = f"{SCRIPT}|{SCRIPT}"
    assert rendered == {
        "email": {
            "subject": raw,
            "preheader": raw,
            "html": f"<p>{ESCAPED}|{ESCAPED}</p>",
            "text": raw,
        },
        "sms": {"body": raw},
        "push": {
            "title": raw,
            "body": raw,
            "deepLink": f"https://shop.example/p?a={SCRIPT}&b={SCRIPT}",
            "imageUrl": f"https://cdn.example/i?a={SCRIPT}&b={SCRIPT}",
        },
    }


def test_the_safe_filter_lets_trusted_markup_through_in_html() -> None:
    version = _live(
        CampaignFactory.create(
            content={
                "en": {
                    "subject": "{{ context.banner | safe }}",
                    "html": "{{ context.banner | safe }} {{ context.banner }}",
                }
            }
        )
    )

    rendered = version_render(
        version=version, locale="en", profile={}, context={"banner": "<b>Sale</b>"}
    )

    assert rendered.parts["html"] == "<b>Sale</b> &lt;b&gt;Sale&lt;/b&gt;"
    assert rendered.parts["subject"] == "<b>Sale</b>"


def _push_version(deep_link: str, image_url: str = "") -> CampaignVersion:
    return _live(
        CampaignFactory.create(
            channel="push",
            channel_configuration=PushConfigurationFactory.create(),
            content={
                "en": {
                    "title": "Sale",
                    "body": "Now",
                    "deep_link": deep_link,
                    "image_url": image_url,
                }
            },
        )
    )


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "http://shop.example/p",
        "data:text/html,<script>alert(1)</script>",
        "https:///no-host",
        "//shop.example/p",
        "myapp://product/42",  # no app scheme is allowed by this configuration
    ],
)
def test_a_rendered_link_that_is_not_https_is_an_error_delivery_can_record(link: str) -> None:
    version = _push_version("{{ context.link }}", image_url="{{ context.link }}")

    with pytest.raises(InvalidInput) as caught:
        version_render(version=version, locale="en", profile={}, context={"link": link})

    assert caught.value.code == "link_not_allowed"
    assert [(e.pointer, e.detail) for e in caught.value.errors] == [
        ("/content/en/deepLink", "Use an https:// link."),
        ("/content/en/imageUrl", "Use an https:// link."),
    ]


def test_https_links_and_empty_links_render() -> None:
    version = _push_version("{{ context.link }}", image_url="")

    rendered = version_render(
        version=version, locale="en", profile={}, context={"link": "https://shop.example/p/1"}
    )

    assert dict(rendered.parts) == {
        "title": "Sale",
        "body": "Now",
        "deepLink": "https://shop.example/p/1",
        "imageUrl": "",
    }


def test_a_version_of_another_campaign_id_is_not_confused_in_the_cache() -> None:
    first = _live(CampaignFactory.create(content={"en": {"subject": "One", "text": "1"}}))
    second = _live(CampaignFactory.create(content={"en": {"subject": "Two", "text": "2"}}))

    one = version_render(version=first, locale="en", profile={}, context={})
    two = version_render(version=second, locale="en", profile={}, context={})

    assert (one.parts["subject"], two.parts["subject"]) == ("One", "Two")


def test_the_migration_fills_the_version_columns_from_existing_snapshots() -> None:
    migration = importlib.import_module("campaigns.migrations.0005_version_schedule_and_labels")
    campaign = CampaignFactory.create(
        start_at=datetime(2020, 5, 1, tzinfo=UTC), end_at=datetime(2099, 5, 1, tzinfo=UTC)
    )
    campaign.access_labels.set([AccessLabelFactory.create(name="vip")])
    version = _live(campaign)
    CampaignVersion.objects.filter(pk=version.pk).update(start_at=None, end_at=None)
    version.access_labels.clear()

    migration.copy_from_snapshots(django_apps, None)

    version.refresh_from_db()
    assert (version.start_at, version.end_at) == (
        datetime(2020, 5, 1, tzinfo=UTC),
        datetime(2099, 5, 1, tzinfo=UTC),
    )
    assert list(version.access_labels.values_list("name", flat=True)) == ["vip"]


def test_the_schedule_window_is_open_from_its_start_until_before_its_end() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = datetime(2030, 2, 1, tzinfo=UTC)
    window = Schedule(start_at=start, end_at=end)

    assert [
        window.is_open(at)
        for at in (start - timedelta(seconds=1), start, end - timedelta(seconds=1), end)
    ] == [
        False,
        True,
        True,
        False,
    ]
    assert Schedule(start_at=None, end_at=None).is_open(start) is True


def test_discarding_refuses_a_live_version_this_code_cannot_read_and_keeps_the_draft() -> None:
    campaign = CampaignFactory.create()
    version = _live(campaign)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=SYSTEM)
    campaign_update(campaign=campaign, data={"name": "Draft name"}, actor=SYSTEM)
    CampaignVersion.objects.filter(pk=version.pk).update(
        snapshot={**version.snapshot, "schemaVersion": 2, "name": "Written by a newer Clarion"}
    )

    with pytest.raises(SnapshotSchemaError):
        lifecycle.campaign_discard_draft_version(campaign=campaign, actor=SYSTEM)

    campaign.refresh_from_db()
    assert (campaign.name, campaign.has_draft_version) == ("Draft name", True)
