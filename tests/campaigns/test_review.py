"""Review checks, one by one: each finding's code, severity and field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audiences.models import Audience, Profile
from campaigns.models import Campaign, CampaignContent
from campaigns.review import campaign_review
from tests.factories import (
    CampaignFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = pytest.mark.django_db


def _codes(campaign: Campaign) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    result = campaign_review(campaign=campaign)
    return (
        [(f.code, f.field) for f in result.errors],
        [(f.code, f.field) for f in result.warnings],
    )


def test_a_complete_transactional_email_campaign_has_no_findings() -> None:
    assert _codes(CampaignFactory.create()) == ([], [])


def test_missing_default_locale_content_is_an_error() -> None:
    campaign = CampaignFactory.create(default_locale="de")

    errors, _ = _codes(campaign)

    assert errors == [("default_locale_content_missing", "/content/de")]


def test_empty_default_locale_content_is_an_error() -> None:
    campaign = CampaignFactory.create(content={"en": {}})

    errors, _ = _codes(campaign)

    assert errors == [
        ("default_locale_content_empty", "/content/en"),
        ("email_subject_missing", "/content/en/subject"),
        ("email_body_missing", "/content/en/html"),
    ]


def test_template_syntax_error_is_reported_with_line_and_column() -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "Hi", "html": "<p>ok</p>\n<p>{% if %}</p>", "text": "t"}}
    )

    result = campaign_review(campaign=campaign)

    assert [(f.code, f.field) for f in result.errors] == [("template_syntax", "/content/en/html")]
    assert "line 2, column 7" in result.errors[0].message


def test_email_subject_missing_in_any_locale_is_an_error() -> None:
    campaign = CampaignFactory.create()
    CampaignContent.objects.create(campaign=campaign, locale="fr", html="<p>x</p>")

    errors, _ = _codes(campaign)

    assert errors == [("email_subject_missing", "/content/fr/subject")]


def test_sms_over_one_segment_warns_and_over_ten_is_an_error() -> None:
    configuration = SmsConfigurationFactory.create()
    one = CampaignFactory.create(
        channel="sms",
        channel_configuration=configuration,
        track_clicks=False,
        content={"en": {"body": "a" * 160}},
    )
    two = CampaignFactory.create(
        channel="sms",
        channel_configuration=configuration,
        track_clicks=False,
        content={"en": {"body": "a" * 161}},
    )
    eleven = CampaignFactory.create(
        channel="sms",
        channel_configuration=configuration,
        track_clicks=False,
        content={"en": {"body": "a" * (153 * 10 + 1)}},
    )
    unicode_two = CampaignFactory.create(
        channel="sms",
        channel_configuration=configuration,
        track_clicks=False,
        content={"en": {"body": "é" * 10 + "ł" * 61}},
    )

    assert _codes(one) == ([], [])
    assert _codes(two) == ([], [("sms_multiple_segments", "/content/en/body")])
    assert _codes(eleven) == ([("sms_too_long", "/content/en/body")], [])
    assert _codes(unicode_two) == ([], [("sms_multiple_segments", "/content/en/body")])


def test_push_title_over_65_characters_warns() -> None:
    campaign = CampaignFactory.create(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "t" * 66, "body": "Your order shipped"}},
    )

    assert _codes(campaign) == ([], [("push_title_long", "/content/en/title")])


def test_end_before_start_is_an_error() -> None:
    now = timezone.now()
    campaign = CampaignFactory.create(
        start_at=now + timedelta(days=2), end_at=now + timedelta(days=1)
    )

    assert _codes(campaign) == ([("schedule_end_before_start", "/schedule/endAt")], [])


def test_end_in_the_past_is_an_error() -> None:
    campaign = CampaignFactory.create(end_at=timezone.now() - timedelta(minutes=1))

    assert _codes(campaign) == ([("schedule_end_in_past", "/schedule/endAt")], [])


def test_missing_channel_configuration_is_an_error() -> None:
    campaign = CampaignFactory.create(channel_configuration=None)

    assert _codes(campaign) == ([("channel_configuration_missing", "/channelConfiguration")], [])


def test_channel_configuration_of_another_channel_is_an_error() -> None:
    campaign = CampaignFactory.create(channel_configuration=SmsConfigurationFactory.create())

    assert _codes(campaign) == ([("channel_configuration_mismatch", "/channelConfiguration")], [])


def test_marketing_without_audience_is_an_error_and_an_empty_audience_warns() -> None:
    campaign = CampaignFactory.create(category="marketing")
    empty = Audience.objects.create(name="Nobody", kind="static")
    with_empty = CampaignFactory.create(category="marketing", audience=empty)
    members = Audience.objects.create(name="Ana", kind="static")
    members.members.add(Profile.objects.create(attributes={"name": "Ana"}))
    with_members = CampaignFactory.create(category="marketing", audience=members)

    assert _codes(campaign) == ([("audience_missing", "/audience/audienceId")], [])
    assert _codes(with_empty) == ([], [("audience_empty", "/audience/audienceId")])
    assert _codes(with_members) == ([], [])


def test_click_tracking_without_any_link_warns() -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "Hi", "html": "<p>No links</p>", "text": "No links"}}
    )
    untracked = CampaignFactory.create(
        track_clicks=False,
        content={"en": {"subject": "Hi", "html": "<p>No links</p>", "text": "No links"}},
    )

    assert _codes(campaign) == ([], [("tracking_without_links", "/tracking/clicks")])
    assert _codes(untracked) == ([], [])


def test_link_built_from_a_variable_counts_as_a_link() -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "Hi", "html": '<a href="{{ context.url }}">go</a>', "text": ""}}
    )

    assert _codes(campaign) == ([], [])


def test_open_tracking_on_a_text_only_email_warns() -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "Hi", "html": "", "text": "https://shop.example"}}
    )

    assert _codes(campaign) == ([], [("tracking_opens_without_html", "/tracking/opens")])


def test_an_audience_with_rules_stored_before_they_were_refused_is_an_error() -> None:
    # given an audience whose stored rules the language now refuses (an empty value)
    broken = Audience.objects.create(
        name="Old rules",
        kind="rules",
        rules={
            "combinator": "and",
            "conditions": [{"field": "attributes.city", "operator": "equals", "value": ""}],
        },
    )
    campaign = CampaignFactory.create(category="marketing", audience=broken)

    # then the review says so (instead of crashing), and it blocks activation
    result = campaign_review(campaign=campaign)
    assert [f.as_dict() for f in result.errors] == [
        {
            "code": "audience_rules_invalid",
            "message": "The audience “Old rules” has rules to fix before it can be used: Give a "
            "value: an empty one would match nothing. For profiles without a value, use "
            "“does not exist”.",
            "field": "/audience/audienceId",
        }
    ]
    assert result.warnings == []
