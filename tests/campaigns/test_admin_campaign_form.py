"""The campaign change form: the steps, validation at the field, read-only rules, visibility."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.admin.campaign import CampaignAdmin
from campaigns.models import TRACKING_BY_CHANNEL, AuditEvent, Campaign, CampaignContent
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_create, campaign_update
from core.actors import Actor
from tests.campaigns.admin_helpers import campaign_form_data
from tests.factories import (
    AccessLabelFactory,
    CampaignFactory,
    ChannelConfigurationFactory,
    PushConfigurationFactory,
    SmsConfigurationFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:campaigns_campaign_add")


def change_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


@pytest.fixture
def marketer_client(client: Client, marketer: User) -> Client:
    client.force_login(marketer)
    return client


def test_the_add_form_shows_the_six_steps_in_order(admin_client: Client) -> None:
    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    html = response.content.decode()
    steps = [
        "1. Properties",
        "2. Action",
        "3. Content",
        "Content per locale",
        "4. Audience",
        "5. Schedule",
        "6. Review & activate",
    ]
    positions = [html.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "campaigns/admin/campaign.js" in html
    # Marketers learn at the HTML field that data is escaped, and how to opt out.
    assert "HTML-escaped here, so data cannot inject markup" in html
    assert "{{ context.banner | safe }}" in html
    assert "http://" not in re.sub(r'(href|src|action)="[^"]*"', "", html).split("<body")[0]


def test_creating_a_campaign_with_two_locales_records_the_creator(
    marketer_client: Client, marketer: User
) -> None:
    configuration = ChannelConfigurationFactory.create()
    data = campaign_form_data(
        configuration=configuration,
        contents=[
            {"locale": "en", "subject": "Hi {{ profile.firstName }}", "html": "<p>Hi</p>"},
            {"locale": "fr_ca", "subject": "Salut {{ profile.firstName }}", "html": "<p>Salut</p>"},
        ],
    )

    response = marketer_client.post(ADD_URL, data)

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Welcome")
    assert campaign.created_by == marketer
    assert campaign.last_edited_by == marketer
    assert sorted(campaign.contents.values_list("locale", flat=True)) == ["en", "fr-CA"]
    assert list(AuditEvent.objects.filter(campaign=campaign).values_list("action", flat=True)) == [
        "create"
    ]


def test_a_template_syntax_error_is_shown_at_its_field_and_nothing_is_saved(
    marketer_client: Client,
) -> None:
    configuration = ChannelConfigurationFactory.create()
    data = campaign_form_data(
        configuration=configuration,
        contents=[{"locale": "en", "subject": "Hi", "html": "<p>\n{% if %}</p>"}],
    )

    response = marketer_client.post(ADD_URL, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Template error: " in html
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert list(errors) == ["html"]
    assert errors["html"][0].startswith("Template error: ")
    assert errors["html"] == ["Template error: missing expression (line 2, column 4)"]
    assert Campaign.objects.count() == 0
    assert CampaignContent.objects.count() == 0


def test_editing_a_draft_checks_templates_and_records_the_editor(
    marketer_client: Client, marketer: User
) -> None:
    campaign = CampaignFactory.create()
    data = campaign_form_data(
        configuration=campaign.channel_configuration,
        campaign=campaign,
        name=campaign.name,
        contents=[{"locale": "en", "subject": "{% if %}", "html": "<p>x</p>"}],
    )

    refused = marketer_client.post(change_url(campaign), data)

    assert refused.status_code == 200
    assert "Template error: " in refused.content.decode()
    campaign.refresh_from_db()
    assert campaign.contents.get().subject == "Thanks {{ profile.person.name.firstName }}"
    assert AuditEvent.objects.filter(campaign=campaign).count() == 0

    data["contents-0-subject"] = "Hello {{ profile.firstName }}"
    saved = marketer_client.post(change_url(campaign), data)

    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.contents.get().subject == "Hello {{ profile.firstName }}"
    assert campaign.last_edited_by == marketer
    event = AuditEvent.objects.get(campaign=campaign)
    assert (event.action, event.detail, event.actor) == ("edit", {"changed": ["content"]}, marketer)


def test_create_new_profiles_is_refused_for_a_marketing_campaign_at_the_field(
    marketer_client: Client,
) -> None:
    data = campaign_form_data(
        configuration=ChannelConfigurationFactory.create(),
        contents=[{"locale": "en", "subject": "Hi", "html": "<p>Hi</p>"}],
        category="marketing",
        create_new_profiles="on",
    )

    response = marketer_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["create_new_profiles"] == [
        "Only transactional campaigns can create profiles for unknown recipients."
    ]
    assert Campaign.objects.count() == 0


def test_a_bad_locale_is_refused_at_the_field(marketer_client: Client) -> None:
    data = campaign_form_data(
        configuration=ChannelConfigurationFactory.create(),
        contents=[{"locale": "english!", "subject": "Hi", "html": "<p>Hi</p>"}],
        default_locale="xx_yy_zz_1",
    )

    response = marketer_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "default_locale" in response.context["adminform"].form.errors
    inline_errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert list(inline_errors) == ["locale"]
    assert Campaign.objects.count() == 0


def test_a_live_campaign_opens_read_only_and_refuses_a_save(
    marketer_client: Client, marketer: User
) -> None:
    campaign = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(), actor=Actor(user=marketer)
    )

    page = marketer_client.get(change_url(campaign))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' not in html
    assert 'name="contents-0-subject"' not in html
    assert "create a draft version to edit" in html
    assert 'name="_save"' not in html
    data = campaign_form_data(
        configuration=campaign.channel_configuration,
        campaign=campaign,
        name="Changed",
        contents=[{"locale": "en", "subject": "Changed", "html": "<p>x</p>"}],
    )
    refused = marketer_client.post(change_url(campaign), data)
    assert refused.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name != "Changed"


def test_a_live_campaign_with_a_draft_version_is_editable(
    marketer_client: Client, marketer: User
) -> None:
    actor = Actor(user=marketer)
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=actor)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=actor)
    data = campaign_form_data(
        configuration=campaign.channel_configuration,
        campaign=campaign,
        name="Renamed in draft",
        contents=[{"locale": "en", "subject": "New", "html": "<p>x</p>"}],
    )

    response = marketer_client.post(change_url(campaign), data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed in draft"
    assert campaign.live_version is not None
    assert campaign.live_version.snapshot["name"] != "Renamed in draft"


def test_the_changelist_shows_status_badges_and_filters(admin_client: Client) -> None:
    CampaignFactory.create(name="Draft one")
    live = CampaignFactory.create(name="Live one")
    lifecycle.campaign_activate(campaign=live, actor=Actor.system())

    response = admin_client.get(reverse("admin:campaigns_campaign_changelist"))

    html = response.content.decode()
    assert '<span class="clarion-status status-draft">Draft</span>' in html
    assert '<span class="clarion-status status-live">Live</span>' in html
    filtered = admin_client.get(
        reverse("admin:campaigns_campaign_changelist") + "?status__exact=live"
    )
    assert [c.name for c in filtered.context["cl"].result_list] == ["Live one"]
    searched = admin_client.get(reverse("admin:campaigns_campaign_changelist") + "?q=Draft")
    assert [c.name for c in searched.context["cl"].result_list] == ["Draft one"]


def test_a_labelled_campaign_is_hidden_from_a_user_without_the_label(
    marketer_client: Client, marketer: User
) -> None:
    label = AccessLabelFactory.create(name="vip")
    hidden = CampaignFactory.create(name="VIP only")
    hidden.access_labels.add(label)
    CampaignFactory.create(name="Everyone")

    listing = marketer_client.get(reverse("admin:campaigns_campaign_changelist"))
    page = marketer_client.get(change_url(hidden))
    review = marketer_client.get(reverse("admin:campaigns_campaign_review", args=[hidden.pk]))

    assert [c.name for c in listing.context["cl"].result_list] == ["Everyone"]
    assert page.status_code == 302  # Django's "does not exist" redirect to the index
    assert review.status_code == 404

    group = Group.objects.create(name="VIP team")
    label.groups.add(group)
    marketer.groups.add(group)
    allowed = marketer_client.get(change_url(hidden))
    assert allowed.status_code == 200


def test_delete_is_offered_for_drafts_only(admin_client: Client) -> None:
    draft = CampaignFactory.create()
    live = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=Actor.system())

    draft_page = admin_client.get(change_url(draft)).content.decode()
    live_page = admin_client.get(change_url(live)).content.decode()
    refused = admin_client.post(reverse("admin:campaigns_campaign_delete", args=[live.pk]))
    deleted = admin_client.post(
        reverse("admin:campaigns_campaign_delete", args=[draft.pk]), {"post": "yes"}
    )

    assert "deletelink" in draft_page
    assert "deletelink" not in live_page
    assert refused.status_code == 403
    assert deleted.status_code == 302
    assert list(Campaign.objects.values_list("pk", flat=True)) == [live.pk]
    assert AuditEvent.objects.filter(action="delete", campaign_name=draft.name).count() == 1


def test_a_live_campaign_shows_its_curl_sample_with_every_variable_and_its_versions(
    admin_client: Client,
) -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {
                "subject": "Hi {{ profile.person.name.firstName }}",
                "html": "<p>{{ context.order.id }} {{ profile.loyalty.tier }}</p>",
            },
            "fr": {"subject": "Salut {{ context.coupon }}", "html": "<p>x</p>"},
        }
    )
    lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())

    response = admin_client.get(change_url(campaign))

    assert response.status_code == 200
    curl = response.context["curl_sample"]
    assert "/api/v1/executions/unitary" in curl
    for variable in ("firstName", "tier", "coupon", '"order"', '"id"'):
        assert variable in curl
    html = response.content.decode()
    assert 'id="clarion-curl-sample"' in html
    assert "v1" in html and "(live)" in html


# --- the action step: channel configuration, tracking, related-object icons ------------------


def _options(response: Any, name: str) -> list[str]:
    form = response.context["adminform"].form
    return [label for _value, label in form.fields[name].choices]


def test_the_channel_configuration_offers_the_chosen_channels_active_ones(
    admin_client: Client,
) -> None:
    # given configurations of each channel, one of them switched off
    email = ChannelConfigurationFactory.create(name="Shop email")
    ChannelConfigurationFactory.create(name="Old email", is_active=False)
    sms = SmsConfigurationFactory.create(name="Shop SMS")
    push = PushConfigurationFactory.create(name="Shop app")
    campaign = CampaignFactory.create(channel_configuration=email)

    # when the email campaign's page is opened
    response = admin_client.get(change_url(campaign))

    # then only active email configurations are offered, and the script gets every channel's
    assert _options(response, "channel_configuration") == ["---------", "Shop email (Email)"]
    select = re.search(r'<select name="channel_configuration"[^>]*>', response.content.decode())
    assert select is not None
    found = re.search(r'data-options="([^"]*)"', select[0])
    assert found is not None
    options = json.loads(html.unescape(found[1]))
    assert options == {
        "email": [[str(email.pk), "Shop email (Email)"]],
        "sms": [[str(sms.pk), "Shop SMS (SMS)"]],
        "push": [[str(push.pk), "Shop app (Push)"]],
    }


def test_a_channel_configuration_of_another_channel_is_refused_at_the_field(
    admin_client: Client,
) -> None:
    # given an email draft and an SMS configuration
    campaign = CampaignFactory.create(name="Before")
    sms = SmsConfigurationFactory.create(name="Shop SMS")
    before = campaign.channel_configuration_id

    # when the email campaign is saved with the SMS configuration
    data = campaign_form_data(
        configuration=sms,
        campaign=campaign,
        name="After",
        contents=[{"locale": "en", "subject": "Hi", "html": "<p>Hi</p>"}],
    )
    response = admin_client.post(change_url(campaign), data)

    # then the field says why, and nothing was saved
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["channel_configuration"] == [
        "Choose a channel configuration of the campaign's channel."
    ]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.channel_configuration_id) == ("Before", before)


def test_switching_channel_offers_and_takes_that_channels_configuration(
    admin_client: Client,
) -> None:
    # given an email draft and an SMS configuration
    campaign = CampaignFactory.create()
    sms = SmsConfigurationFactory.create(name="Shop SMS")

    # when it is saved as an SMS campaign with the SMS configuration, opens still ticked
    data = campaign_form_data(
        configuration=sms,
        campaign=campaign,
        channel="sms",
        contents=[{"locale": "en", "body": "Hi"}],
    )
    response = admin_client.post(change_url(campaign), data)

    # then it is saved, and open tracking, which SMS cannot do, is stored off
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.channel, campaign.channel_configuration_id) == ("sms", sms.pk)
    assert (campaign.track_opens, campaign.track_clicks) == (False, True)


def test_a_push_campaign_stores_no_tracking(admin_client: Client) -> None:
    push = PushConfigurationFactory.create(name="Shop app")

    data = campaign_form_data(
        configuration=push,
        name="Push",
        channel="push",
        contents=[{"locale": "en", "title": "Hi", "body": "Hello"}],
    )
    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get()
    assert (campaign.track_opens, campaign.track_clicks) == (False, False)


def test_the_page_gives_the_script_what_each_channel_can_track(admin_client: Client) -> None:
    campaign = CampaignFactory.create()

    page = admin_client.get(change_url(campaign)).content.decode()

    script = re.search(
        r'<script id="clarion-channel-tracking" type="application/json">(.*?)</script>', page
    )
    assert script is not None
    assert json.loads(script[1]) == {"email": ["opens", "clicks"], "sms": ["clicks"], "push": []}
    assert json.loads(script[1]) == {k: list(v) for k, v in TRACKING_BY_CHANNEL.items()}


def test_namespace_and_channel_configuration_have_no_delete_icon(admin_client: Client) -> None:
    campaign = CampaignFactory.create()

    page = admin_client.get(change_url(campaign)).content.decode()

    for name in ("identity_namespace", "channel_configuration", "audience"):
        assert f'id="delete_id_{name}"' not in page
        assert f'id="add_id_{name}"' in page  # adding stays
    assert 'id="change_id_channel_configuration"' in page  # so does editing


# --- the admin saves through the authoring service, like the API ---------------------


def _edit_data(campaign: Campaign, **fields: Any) -> dict[str, Any]:
    return campaign_form_data(
        configuration=campaign.channel_configuration,
        campaign=campaign,
        contents=[{"locale": "en", "subject": "New subject", "html": "<p>New</p>"}],
        **{"name": "Renamed", **fields},
    )


def test_an_admin_edit_goes_through_campaign_update_and_audits_like_the_api(
    marketer_client: Client, marketer: User
) -> None:
    in_admin = CampaignFactory.create(name="Same")
    through_api = CampaignFactory.create(name="Same")
    api = APIClient()
    api.force_login(marketer)

    with mock.patch("campaigns.admin.campaign.campaign_update", wraps=campaign_update) as service:
        saved = marketer_client.post(change_url(in_admin), _edit_data(in_admin))
    patched = api.patch(
        f"/api/v1/campaigns/{through_api.pk}",
        {"name": "Renamed", "content": {"en": {"subject": "New subject", "html": "<p>New</p>"}}},
        format="json",
    )

    assert (saved.status_code, patched.status_code) == (302, 200)
    assert service.call_count == 1
    assert service.call_args.kwargs["campaign"].pk == in_admin.pk
    assert service.call_args.kwargs["actor"].user == marketer
    events = {
        campaign.pk: list(
            AuditEvent.objects.filter(campaign=campaign).values_list(
                "action", "detail", "actor", "api_key"
            )
        )
        for campaign in (in_admin, through_api)
    }
    assert (
        events[in_admin.pk]
        == events[through_api.pk]
        == [("edit", {"changed": ["content", "name"]}, marketer.pk, None)]
    )
    for campaign in (in_admin, through_api):
        campaign.refresh_from_db()
        assert (campaign.name, campaign.last_edited_by) == ("Renamed", marketer)
        assert campaign.contents.get().subject == "New subject"


def test_an_admin_edit_is_refused_like_the_api_when_the_draft_version_closed_meanwhile(
    marketer_client: Client, marketer: User
) -> None:
    actor = Actor(user=marketer)
    campaign = lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=actor)
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=actor)
    data = _edit_data(campaign)
    events_before = AuditEvent.objects.count()
    found = CampaignAdmin.get_object

    def found_then_a_colleague_publishes(self: Any, *args: Any, **kwargs: Any) -> Any:
        obj = found(self, *args, **kwargs)
        Campaign.objects.filter(pk=campaign.pk).update(has_draft_version=False)
        return obj

    with mock.patch.object(CampaignAdmin, "get_object", found_then_a_colleague_publishes):
        refused = marketer_client.post(change_url(campaign), data)
    api = APIClient()
    api.force_login(marketer)
    api_refused = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"name": "Renamed"}, format="json")

    message = "This campaign is Live: create a draft version to edit it."
    assert refused.status_code == 200
    assert refused.context["adminform"].form.non_field_errors() == [message]
    assert message in refused.content.decode()
    assert (api_refused.status_code, api_refused.json()["code"]) == (409, "draft_version_required")
    assert api_refused.json()["detail"] == message
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"
    assert campaign.contents.get().subject == "Thanks {{ profile.person.name.firstName }}"
    assert AuditEvent.objects.count() == events_before


def test_service_errors_show_at_their_fields_and_nothing_is_saved(
    marketer_client: Client,
) -> None:
    configuration = PushConfigurationFactory.create(push_app_schemes=["shop"])
    data = campaign_form_data(
        configuration=configuration,
        channel="push",
        category="marketing",
        create_new_profiles="on",
        contents=[
            {"locale": "en", "title": "Hi", "body": "x", "deep_link": "javascript:alert(1)"},
            {"locale": "fr", "title": "{% if %}", "body": "x", "image_url": "shop://home"},
        ],
    )

    response = marketer_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "create_new_profiles": [
            "Only transactional campaigns can create profiles for unknown recipients."
        ]
    }
    rows = response.context["inline_admin_formsets"][0].formset.forms
    assert rows[0].errors == {
        "deep_link": ["Use an https:// link or a link of an app scheme this channel allows: shop:."]
    }
    assert rows[1].errors == {"title": ["Template error: missing expression (line 1, column 4)"]}
    assert Campaign.objects.count() == 0
    assert CampaignContent.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_adding_in_the_admin_creates_through_campaign_create(marketer_client: Client) -> None:
    data = campaign_form_data(
        configuration=ChannelConfigurationFactory.create(),
        contents=[{"locale": "en", "subject": "Hi", "html": "<p>Hi</p>", "title": "ignored"}],
    )

    with mock.patch("campaigns.admin.campaign.campaign_create", wraps=campaign_create) as service:
        response = marketer_client.post(ADD_URL, data)

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_changelist")
    assert service.call_count == 1
    assert service.call_args.kwargs["data"]["content"] == {
        "en": {"subject": "Hi", "preheader": "", "html": "<p>Hi</p>", "text": ""}
    }
    assert LogEntry.objects.get().object_id == str(campaign.pk)


def test_the_preview_explains_its_locale_list_rather_than_asking_to_type_one(
    admin_client: Client,
) -> None:
    campaign = CampaignFactory.create()

    page = html.unescape(admin_client.get(change_url(campaign)).content.decode())

    assert (
        '<select id="clarion-preview-locale" aria-describedby="clarion-preview-locale-help">'
        in page
    )
    assert (
        "Choose one of the campaign's content locales. A recipient whose locale has no content "
        "of its own gets the nearest one: pt-BR falls back to pt, then to the default locale."
    ) in page
    assert "Try another code" not in page
