"""Push links (deepLink, imageUrl): https: or an app scheme the channel configuration allows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from campaigns.links import link_problem, link_template_problem
from campaigns.models import ChannelConfiguration
from campaigns.review import campaign_review
from campaigns.services import lifecycle
from campaigns.versions import version_render
from core.actors import Actor
from core.errors import InvalidInput
from tests.factories import CampaignFactory, PushConfigurationFactory

pytestmark = pytest.mark.django_db
REFUSED = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "\tjava\nscript:alert(1)",
    "http://shop.example/p/1",
    "data:text/html;base64,PHNjcmlwdD4=",
    "otherapp://product/1",
    "shop.example/p/1",
]
ACCEPTED = ["https://shop.example/p/1", "myapp://product/1", "MyApp:product/1", ""]


@pytest.mark.parametrize("link", REFUSED)
def test_rendered_links_other_than_https_and_allowed_app_schemes_are_refused(link: str) -> None:
    assert link_problem(link, ["myapp"]) == (
        "Use an https:// link or a link of an app scheme this channel allows: myapp:."
    )


@pytest.mark.parametrize("link", ACCEPTED)
def test_https_and_allowed_app_scheme_links_are_accepted(link: str) -> None:
    assert link_problem(link, ["myapp"]) is None


def test_without_app_schemes_only_https_is_accepted() -> None:
    assert link_problem("myapp://product/1", []) == "Use an https:// link."
    assert link_problem("https://shop.example/", []) is None


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ context.link }}", None),  # only known once rendered: checked then
        ("https://shop.example/p/{{ context.id }}", None),
        ("myapp://product/{{ context.id }}", None),
        ("javascript:{{ context.code }}", "bad"),
        ("http://shop.example/{{ context.id }}", "bad"),
        ("data:{{ context.payload }}", "bad"),
        ("https:{{ context.rest }}", "bad"),
        ("my{{ context.scheme }}://x", "bad"),
    ],
)
def test_a_link_template_is_checked_on_its_literal_start(source: str, problem: str | None) -> None:
    expected = (
        None
        if problem is None
        else "Use an https:// link or a link of an app scheme this channel allows: myapp:."
    )
    assert link_template_problem(source, ["myapp"]) == expected


@pytest.mark.parametrize(
    ("schemes", "error"),
    [
        (["http"], "“http” is not an app scheme; https: links are always allowed."),
        (["JavaScript"], "“JavaScript” is not an app scheme; https: links are always allowed."),
        (["data"], "“data” is not an app scheme; https: links are always allowed."),
        (["my app"], "“my app” is not a URI scheme: a letter, then letters, digits, + . or -."),
        (["1app"], "“1app” is not a URI scheme: a letter, then letters, digits, + . or -."),
        ("myapp", "Give a list of scheme names, such as myapp."),
    ],
)
def test_a_channel_configuration_accepts_only_app_uri_schemes(schemes: Any, error: str) -> None:
    configuration = PushConfigurationFactory.build(push_app_schemes=schemes)

    with pytest.raises(ValidationError) as caught:
        configuration.full_clean()

    assert caught.value.message_dict == {"push_app_schemes": [error]}


def test_the_admin_takes_app_schemes_as_a_comma_separated_list(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:campaigns_channelconfiguration_add"),
        {
            "name": "Shop app",
            "channel": "push",
            "is_active": "on",
            "push_app_id": "com.example.shop",
            "push_platform": "android",
            "push_provider": "outbox",
            "push_app_schemes": "MyApp, shop-app  other+x",
        },
    )
    refused = admin_client.post(
        reverse("admin:campaigns_channelconfiguration_add"),
        {
            "name": "Bad app",
            "channel": "push",
            "push_app_id": "com.example.bad",
            "push_platform": "android",
            "push_provider": "outbox",
            "push_app_schemes": "myapp, javascript",
        },
    )

    assert response.status_code == 302
    saved = ChannelConfiguration.objects.get(name="Shop app")
    assert saved.push_app_schemes == ["myapp", "shop-app", "other+x"]
    assert saved.summary()["appSchemes"] == ["myapp", "shop-app", "other+x"]
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["push_app_schemes"] == [
        "“javascript” is not an app scheme; https: links are always allowed."
    ]
    assert not ChannelConfiguration.objects.filter(name="Bad app").exists()


def test_review_refuses_links_the_configuration_no_longer_allows() -> None:
    configuration = PushConfigurationFactory.create(push_app_schemes=["myapp"])
    campaign = CampaignFactory.create(
        channel="push",
        channel_configuration=configuration,
        content={"en": {"title": "Hi", "body": "x", "deep_link": "myapp://home"}},
    )
    assert campaign_review(campaign=campaign).errors == []
    ChannelConfiguration.objects.filter(pk=configuration.pk).update(push_app_schemes=[])
    campaign.refresh_from_db()

    errors = campaign_review(campaign=campaign).as_dict()["errors"]

    assert errors == [
        {
            "code": "push_link_not_allowed",
            "message": "The en deepLink is not an allowed link: Use an https:// link.",
            "field": "/content/en/deepLink",
        }
    ]


def test_version_render_accepts_the_frozen_app_scheme_and_refuses_another() -> None:
    campaign = CampaignFactory.create(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(push_app_schemes=["myapp"]),
        content={"en": {"title": "Hi", "body": "x", "deep_link": "{{ context.link }}"}},
    )
    version = lifecycle.campaign_activate(campaign=campaign, actor=Actor.system()).live_version
    assert version is not None
    assert version.snapshot["channelSettings"]["appSchemes"] == ["myapp"]

    accepted = version_render(
        version=version, locale="en", profile={}, context={"link": "myapp://product/42"}
    )
    with pytest.raises(InvalidInput) as refused:
        version_render(
            version=version, locale="en", profile={}, context={"link": "otherapp://product/42"}
        )

    assert accepted.parts["deepLink"] == "myapp://product/42"
    assert refused.value.code == "link_not_allowed"
    assert [(e.pointer, e.detail) for e in refused.value.errors] == [
        (
            "/content/en/deepLink",
            "Use an https:// link or a link of an app scheme this channel allows: myapp:.",
        )
    ]
