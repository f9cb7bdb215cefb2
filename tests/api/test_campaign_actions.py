"""Campaign actions through the API: review, transitions, duplicate, versions, previews."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import AuditEvent, Campaign, CampaignContent, CampaignVersion, Status
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_update
from core.actors import Actor
from tests.api.conftest import expected_campaign, iso, problem
from tests.factories import CampaignFactory, SmsConfigurationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"
SYSTEM = Actor.system()


def _live() -> Campaign:
    return lifecycle.campaign_activate(campaign=CampaignFactory.create(), actor=SYSTEM)


# --- review ------------------------------------------------------------------------


def test_review_returns_errors_and_warnings_with_pointers(reader: APIClient) -> None:
    campaign = CampaignFactory.create(
        channel_configuration=None, content={"en": {"html": "<p>No link</p>"}}
    )

    response = reader.post(f"{URL}/{campaign.pk}/review")

    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "code": "channel_configuration_missing",
                "message": "Choose a channel configuration: it says who the message comes from.",
                "field": "/channelConfiguration",
            },
            {
                "code": "email_subject_missing",
                "message": "The en email has no subject.",
                "field": "/content/en/subject",
            },
        ],
        "warnings": [
            {
                "code": "tracking_without_links",
                "message": "Click tracking is on but the content has no link to track.",
                "field": "/tracking/clicks",
            }
        ],
    }
    assert AuditEvent.objects.count() == 0


# --- activate, submit, stop, archive ---------------------------------------------------


def test_activate_a_draft_makes_it_live_with_version_one(writer: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = writer.post(f"{URL}/{campaign.pk}/activate")

    assert response.status_code == 200
    version = CampaignVersion.objects.get()
    assert response.json() == expected_campaign(campaign)
    assert response.json()["status"] == "live"
    assert response.json()["liveVersion"] == {"id": str(version.pk), "number": 1}


def test_activate_with_a_future_start_is_scheduled(writer: APIClient) -> None:
    campaign = CampaignFactory.create(start_at=timezone.now() + timedelta(days=1))

    response = writer.post(f"{URL}/{campaign.pk}/activate")

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"


def test_activate_when_review_fails_is_422_with_pointers_and_writes_nothing(
    writer: APIClient,
) -> None:
    sms_sender = SmsConfigurationFactory.create(name="Texts")
    campaign = CampaignFactory.create(
        channel_configuration=sms_sender,
        content={"en": {"subject": "", "html": "", "text": ""}},
    )

    response = writer.post(f"{URL}/{campaign.pk}/activate")

    assert response.status_code == 422
    assert response.json() == problem(
        422,
        "review_failed",
        "The review found 4 errors; fix them first.",
        [
            {
                "pointer": "/channelConfiguration",
                "detail": "The channel configuration “Texts” is for sms, "
                "but this campaign sends email.",
            },
            {"pointer": "/content/en", "detail": "The content for the default locale en is empty."},
            {"pointer": "/content/en/subject", "detail": "The en email has no subject."},
            {
                "pointer": "/content/en/html",
                "detail": "The en email has neither an HTML nor a text body.",
            },
        ],
    )
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT
    assert CampaignVersion.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_activate_a_stopped_campaign_is_409(writer: APIClient) -> None:
    campaign = lifecycle.campaign_stop(campaign=_live(), actor=SYSTEM)

    response = writer.post(f"{URL}/{campaign.pk}/activate")

    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "invalid_transition",
        "Cannot activate a campaign that is Stopped (only: Draft).",
    )
    campaign.refresh_from_db()
    assert campaign.status == Status.STOPPED
    assert CampaignVersion.objects.count() == 1


@override_settings(CLARION_REQUIRE_APPROVAL=True)
def test_activate_when_approval_is_required_is_409_and_submit_puts_it_in_review(
    writer: APIClient,
) -> None:
    campaign = CampaignFactory.create()

    refused = writer.post(f"{URL}/{campaign.pk}/activate")
    submitted = writer.post(f"{URL}/{campaign.pk}/submit")

    assert refused.status_code == 409
    assert refused.json()["code"] == "approval_required"
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "in_review"
    assert submitted.json() == expected_campaign(campaign)


def test_submit_when_approval_is_not_required_is_409(writer: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = writer.post(f"{URL}/{campaign.pk}/submit")

    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "approval_not_required",
        "Approval is not required here; activate the campaign directly.",
    )
    assert Campaign.objects.get().status == Status.DRAFT


def test_stop_a_live_campaign(writer: APIClient) -> None:
    campaign = _live()

    response = writer.post(f"{URL}/{campaign.pk}/stop")

    assert response.status_code == 200
    assert response.json() == expected_campaign(campaign)
    assert response.json()["status"] == "stopped"


def test_stop_a_draft_is_409(writer: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = writer.post(f"{URL}/{campaign.pk}/stop")

    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "invalid_transition",
        "Cannot stop a campaign that is Draft (only: Live, Scheduled).",
    )
    assert Campaign.objects.get().status == Status.DRAFT
    assert AuditEvent.objects.count() == 0


def test_archive_a_stopped_campaign_and_not_a_draft(writer: APIClient) -> None:
    stopped = lifecycle.campaign_stop(campaign=_live(), actor=SYSTEM)
    draft = CampaignFactory.create()

    archived = writer.post(f"{URL}/{stopped.pk}/archive")
    refused = writer.post(f"{URL}/{draft.pk}/archive")

    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


# --- duplicate ----------------------------------------------------------------------


def test_duplicate_is_201_with_the_new_draft(writer: APIClient) -> None:
    source = lifecycle.campaign_stop(campaign=_live(), actor=SYSTEM)

    response = writer.post(f"{URL}/{source.pk}/duplicate", {"name": "Again"}, format="json")

    assert response.status_code == 201
    copy = Campaign.objects.exclude(pk=source.pk).get()
    assert response.json() == expected_campaign(copy)
    assert response.json()["name"] == "Again"
    assert response.json()["status"] == "draft"
    assert response.json()["content"] == expected_campaign(source)["content"]


def test_duplicate_without_a_body_names_the_copy(writer: APIClient) -> None:
    source = CampaignFactory.create(name="Welcome")

    response = writer.post(f"{URL}/{source.pk}/duplicate")

    assert response.status_code == 201
    assert response.json()["name"] == "Welcome (copy)"


# --- draft versions, publish, discard, versions ----------------------------------------


def test_draft_version_edit_publish_then_versions_lists_both(writer: APIClient) -> None:
    campaign = CampaignFactory.create()
    writer.post(f"{URL}/{campaign.pk}/activate")

    opened = writer.post(f"{URL}/{campaign.pk}/draft-version")
    edited = writer.patch(
        f"{URL}/{campaign.pk}",
        {"content": {"en": {"subject": "New subject", "text": "New"}}},
        format="json",
    )
    published = writer.post(f"{URL}/{campaign.pk}/publish")
    versions = writer.get(f"{URL}/{campaign.pk}/versions")

    assert opened.status_code == 200
    assert opened.json()["hasDraftVersion"] is True
    assert edited.status_code == 200, edited.json()
    assert published.status_code == 200
    assert published.json()["hasDraftVersion"] is False
    v1, v2 = CampaignVersion.objects.order_by("number")
    assert published.json()["liveVersion"] == {"id": str(v2.pk), "number": 2}
    assert versions.status_code == 200
    assert versions.json() == {
        "count": 2,
        "limit": 50,
        "offset": 0,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(v.pk),
                "number": v.number,
                "createdAt": iso(v.created_at),
                "createdBy": None,
                "snapshot": v.snapshot,
            }
            for v in (v2, v1)
        ],
    }
    assert v2.snapshot["content"]["en"]["subject"] == "New subject"
    assert v1.snapshot["content"]["en"]["subject"] == "Thanks {{ profile.person.name.firstName }}"


def test_versions_names_the_user_who_froze_them(reader: APIClient) -> None:
    user = UserFactory.create(username="ana")
    campaign = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(), actor=Actor(user=user)
    )

    response = reader.get(f"{URL}/{campaign.pk}/versions")

    assert [v["createdBy"] for v in response.json()["results"]] == ["ana"]


def test_discard_draft_restores_the_live_version(writer: APIClient) -> None:
    campaign = _live()
    writer.post(f"{URL}/{campaign.pk}/draft-version")
    writer.patch(f"{URL}/{campaign.pk}", {"name": "Changed"}, format="json")

    response = writer.post(f"{URL}/{campaign.pk}/discard-draft")

    assert response.status_code == 200
    assert response.json()["name"] == campaign.name
    assert response.json()["hasDraftVersion"] is False
    assert CampaignVersion.objects.count() == 1


def test_publish_without_a_draft_version_and_opening_a_draft_of_a_draft_are_409(
    writer: APIClient,
) -> None:
    live = _live()
    draft = CampaignFactory.create()

    publish = writer.post(f"{URL}/{live.pk}/publish")
    discard = writer.post(f"{URL}/{live.pk}/discard-draft")
    open_draft = writer.post(f"{URL}/{draft.pk}/draft-version")

    assert publish.json() == problem(
        409, "no_draft_version", "There is no draft version to publish."
    )
    assert discard.json() == problem(
        409, "no_draft_version", "There is no draft version to discard."
    )
    assert open_draft.status_code == 409
    assert open_draft.json()["code"] == "invalid_transition"
    assert CampaignVersion.objects.count() == 1


# --- previews -----------------------------------------------------------------------


def test_preview_renders_the_parts_for_the_locale_with_fallback(reader: APIClient) -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {"subject": "Hi {{ profile.name }}", "text": "{{ context.item }}"},
            "pt": {"subject": "Olá {{ profile.name }}", "text": "{{ context.item }}!"},
        }
    )

    response = reader.post(
        f"{URL}/{campaign.pk}/previews",
        {"locale": "pt-BR", "profile": {"name": "Ana"}, "context": {"item": "Casaco"}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "locale": "pt",
        "parts": {"subject": "Olá Ana", "preheader": "", "html": "", "text": "Casaco!"},
        "warnings": [],
    }


def test_preview_with_a_template_error_is_422_naming_the_part(reader: APIClient) -> None:
    campaign = CampaignFactory.create(content={"en": {"subject": "ok", "text": "x"}})
    CampaignContent.objects.filter(campaign=campaign).update(
        text="{{ context.price | divided_by: 0 }}"
    )

    response = reader.post(
        f"{URL}/{campaign.pk}/previews", {"context": {"price": 10}}, format="json"
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "template_error"
    assert [error["pointer"] for error in body["errors"]] == ["/content/en/text"]


def test_preview_with_profile_not_an_object_is_400(reader: APIClient) -> None:
    campaign = CampaignFactory.create()

    response = reader.post(
        f"{URL}/{campaign.pk}/previews", {"profile": "Ana", "colour": "red"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [{"pointer": "/colour", "detail": "Unknown field."}]


def test_preview_warns_of_every_variable_that_rendered_empty(reader: APIClient) -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {
                "subject": "Hi {{ profile.person.name.firstName }}",
                "html": "<p>{{ context.code }} {{ context.items[0].sku }}</p>",
                "text": "{{ context.code }}",
            }
        }
    )

    response = reader.post(
        f"{URL}/{campaign.pk}/previews",
        {"profile": {"person": {"name": {}}}, "context": {"code": ""}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["warnings"] == [
        {
            "code": "empty_variable",
            "message": "{{ profile.person.name.firstName }} is missing or empty in the sample "
            "data, so it renders as nothing.",
            "field": "/content/en/subject",
            "variable": "profile.person.name.firstName",
        },
        {
            "code": "empty_variable",
            "message": "{{ context.code }} is missing or empty in the sample data, so it "
            "renders as nothing.",
            "field": "/content/en/html",
            "variable": "context.code",
        },
        {
            "code": "empty_variable",
            "message": "{{ context.items.0.sku }} is missing or empty in the sample data, so it "
            "renders as nothing.",
            "field": "/content/en/html",
            "variable": "context.items.0.sku",
        },
        {
            "code": "empty_variable",
            "message": "{{ context.code }} is missing or empty in the sample data, so it "
            "renders as nothing.",
            "field": "/content/en/text",
            "variable": "context.code",
        },
    ]


def test_preview_of_a_live_campaign_shows_the_live_version_not_the_draft_edits(
    reader: APIClient,
) -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "Live {{ profile.name }}", "html": "<p>{{ context.x }}</p>"}}
    )
    campaign = lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=Actor.system())
    campaign_update(
        campaign=campaign,
        data={
            "defaultLocale": "fr",
            "content": {"fr": {"subject": "Brouillon {{ profile.name }}", "text": "x"}},
        },
        actor=Actor.system(),
    )
    draft = CampaignFactory.create(content={"en": {"subject": "Draft {{ profile.name }}"}})

    live_preview = reader.post(
        f"{URL}/{campaign.pk}/previews", {"profile": {"name": "Ana"}}, format="json"
    )
    draft_preview = reader.post(
        f"{URL}/{draft.pk}/previews", {"profile": {"name": "Ana"}}, format="json"
    )

    assert live_preview.status_code == 200, live_preview.json()
    assert live_preview.json() == {
        "locale": "en",
        "parts": {"subject": "Live Ana", "preheader": "", "html": "<p></p>", "text": ""},
        "warnings": [
            {
                "code": "empty_variable",
                "message": "{{ context.x }} is missing or empty in the sample data, so it "
                "renders as nothing.",
                "field": "/content/en/html",
                "variable": "context.x",
            }
        ],
    }
    assert draft_preview.json()["parts"]["subject"] == "Draft Ana"


def test_preview_escapes_data_in_the_html_body(reader: APIClient) -> None:
    campaign = CampaignFactory.create(
        content={"en": {"subject": "{{ context.x }}", "html": "<p>{{ context.x }}</p>"}}
    )

    response = reader.post(
        f"{URL}/{campaign.pk}/previews", {"context": {"x": "<b>&</b>"}}, format="json"
    )

    assert response.json()["parts"]["subject"] == "<b>&</b>"
    assert response.json()["parts"]["html"] == "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>"
