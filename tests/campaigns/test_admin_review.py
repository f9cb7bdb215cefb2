"""Review & activate, the lifecycle buttons and the live preview in the campaign admin."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from campaigns.models import AuditEvent, Campaign, Status
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_update
from core.actors import Actor
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def review_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_review", args=[campaign.pk])


def action_url(campaign: Campaign, action: str) -> str:
    return reverse("admin:campaigns_campaign_action", args=[campaign.pk, action])


def preview_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_preview", args=[campaign.pk])


def change_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def messages_of(response: Any) -> list[str]:
    """The messages this request added (the next page would show them, then drop them)."""
    storage: Any = get_messages(response.wsgi_request)
    return [str(m) for m in storage._queued_messages]


def test_the_review_page_lists_errors_and_warnings_linking_to_their_fields(
    admin_client: Client,
) -> None:
    # given a draft with errors (no sender, a template error, no subject, an end in the
    # past) and a warning (click tracking without links)
    campaign = CampaignFactory.create(
        channel_configuration=None,
        end_at=timezone.now() - timedelta(days=1),
        content={
            "en": {"subject": "Hi", "html": "<p>no link</p>"},
            "fr": {"subject": "", "html": "<p>{% if %}</p>"},
        },
    )

    # when its review page is opened
    response = admin_client.get(review_url(campaign))

    # then each finding links to the row of its field on the change form
    assert response.status_code == 200
    base = change_url(campaign)
    errors = {(e["code"], e["href"]) for e in response.context["errors"]}
    assert errors == {
        ("channel_configuration_missing", base + "#field-channel_configuration"),
        ("template_syntax", base + "#field-contents-1-html"),
        ("email_subject_missing", base + "#field-contents-1-subject"),
        ("schedule_end_in_past", base + "#field-end_at"),
    }
    warnings = {(w["code"], w["href"]) for w in response.context["warnings"]}
    assert warnings == {("tracking_without_links", base + "#field-track_clicks")}
    assert [item["action"].name for item in response.context["actions"]] == ["activate"]


def test_errors_look_like_errors_and_warnings_like_warnings_each_with_a_go_to_field_link(
    admin_client: Client,
) -> None:
    # given a draft with one error and one warning
    campaign = CampaignFactory.create(
        channel_configuration=None, content={"en": {"subject": "Hi", "html": "<p>no link</p>"}}
    )

    # when its review page is opened
    html = admin_client.get(review_url(campaign)).content.decode()

    # then the error is styled and worded as an error, the warning as a warning, and the
    # message is text, with a separate link to the field
    base = change_url(campaign)
    assert (
        '<li class="clarion-finding clarion-finding-error" '
        'data-code="channel_configuration_missing">\n'
        '            <img src="/static/admin/img/icon-no.svg" alt="" width="14" height="14">\n'
        '            <span class="clarion-finding-text"><strong>Error:</strong> Choose a channel '
        "configuration: it says who the message comes from.</span>\n"
        f'            <a class="clarion-go-to-field" href="{base}#field-channel_configuration">'
        "Go to field</a>"
    ) in html
    assert (
        '<li class="clarion-finding clarion-finding-warning" data-code="tracking_without_links">\n'
        '            <img src="/static/admin/img/icon-alert.svg" alt="" width="14" height="14">\n'
        '            <span class="clarion-finding-text"><strong>Warning:</strong> Click tracking '
        "is on but the content has no link to track.</span>\n"
        f'            <a class="clarion-go-to-field" href="{base}#field-track_clicks">'
        "Go to field</a>"
    ) in html
    assert f'<a href="{base}#field-channel_configuration">Choose' not in html


def test_activate_is_disabled_while_errors_block_it(admin_client: Client) -> None:
    # given a draft with an error, and one without
    blocked = CampaignFactory.create(channel_configuration=None)
    ready = CampaignFactory.create()

    # when their review pages are opened
    blocked_page = admin_client.get(review_url(blocked))
    ready_page = admin_client.get(review_url(ready))

    # then Activate is disabled, and says why, only where errors block it
    assert blocked_page.context["blocked"] is True
    assert (
        '<button type="submit" class="button clarion-primary" name="action" value="activate" '
        'disabled aria-describedby="clarion-blocked-note">Activate</button>'
    ) in blocked_page.content.decode()
    assert "Fix the errors above first" in blocked_page.content.decode()
    assert ready_page.context["blocked"] is False
    assert (
        '<button type="submit" class="button clarion-primary" name="action" value="activate">'
        "Activate</button>"
    ) in ready_page.content.decode()
    assert "Fix the errors above first" not in ready_page.content.decode()


def test_activate_from_the_review_page_makes_the_campaign_live(
    admin_client: Client, admin_user: User
) -> None:
    campaign = CampaignFactory.create()

    response = admin_client.post(action_url(campaign, "activate"))

    assert response.status_code == 302
    assert response["Location"] == change_url(campaign)
    campaign.refresh_from_db()
    assert campaign.status == Status.LIVE
    assert campaign.live_version is not None
    assert campaign.live_version.number == 1
    assert messages_of(response) == ["The campaign is now Live."]


def test_activation_refused_by_the_review_shows_the_reason_and_changes_nothing(
    admin_client: Client,
) -> None:
    campaign = CampaignFactory.create(channel_configuration=None)

    response = admin_client.post(action_url(campaign, "activate"))

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("The review found 1 error; fix it first.")
    assert "Choose a channel configuration" in message
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT
    assert campaign.versions.count() == 0


def test_actions_need_post(admin_client: Client) -> None:
    campaign = CampaignFactory.create()

    response = admin_client.get(action_url(campaign, "activate"))

    assert response.status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


def test_illegal_actions_are_refused_with_a_message(admin_client: Client) -> None:
    draft = CampaignFactory.create()

    for action in ("stop", "archive", "publish", "open_draft_version", "approve"):
        response = admin_client.post(action_url(draft, action))
        assert response.status_code == 302
        [message] = messages_of(response)
        assert message.startswith(("Cannot ", "There is no draft version", "Approving needs"))

    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert AuditEvent.objects.filter(campaign=draft).count() == 0
    assert admin_client.post(action_url(draft, "explode")).status_code == 404


def test_draft_version_publish_stop_archive_and_duplicate(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Receipts")
    admin_client.post(action_url(campaign, "activate"))
    page = admin_client.get(change_url(campaign))
    assert [t.name for t in page.context["campaign_tools"]] == [
        "open_draft_version",
        "stop",
        "archive",
        "duplicate",
    ]

    admin_client.post(action_url(campaign, "open_draft_version"))
    campaign.refresh_from_db()
    assert campaign.has_draft_version
    campaign_update(campaign=campaign, data={"description": "v2"}, actor=Actor.system())
    published = admin_client.post(action_url(campaign, "publish"))
    campaign.refresh_from_db()
    assert messages_of(published) == ["Published: the new version is live."]
    assert campaign.live_version is not None
    assert campaign.live_version.number == 2
    assert not campaign.has_draft_version

    admin_client.post(action_url(campaign, "stop"))
    campaign.refresh_from_db()
    assert campaign.status == Status.STOPPED
    admin_client.post(action_url(campaign, "archive"))
    campaign.refresh_from_db()
    assert campaign.status == Status.ARCHIVED

    copied = admin_client.post(action_url(campaign, "duplicate"))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copied["Location"] == change_url(copy)
    assert copy.name == "Receipts (copy)"
    assert copy.status == Status.DRAFT


def test_discarding_a_draft_version_restores_the_live_content(admin_client: Client) -> None:
    campaign = CampaignFactory.create(description="original")
    lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=Actor.system())
    campaign_update(campaign=campaign, data={"description": "changed"}, actor=Actor.system())

    response = admin_client.post(action_url(campaign, "discard_draft_version"))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.description == "original"
    assert not campaign.has_draft_version


def test_changelist_actions_apply_the_service_rules(admin_client: Client) -> None:
    draft = CampaignFactory.create(name="Draft")
    live = lifecycle.campaign_activate(
        campaign=CampaignFactory.create(name="Live"), actor=Actor.system()
    )
    url = reverse("admin:campaigns_campaign_changelist")

    stopped = admin_client.post(
        url, {"action": "stop_selected", "_selected_action": [str(draft.pk), str(live.pk)]}
    )
    deleted = admin_client.post(
        url, {"action": "delete_drafts", "_selected_action": [str(draft.pk), str(live.pk)]}
    )

    assert sorted(messages_of(stopped)) == [
        "Draft: Cannot stop a campaign that is Draft (only: Live, Scheduled).",
        "Stop: Live",
    ]
    assert sorted(messages_of(deleted)) == [
        "Deleted: Draft",
        "Live: Only drafts can be deleted; archive a Stopped campaign instead.",
    ]
    assert list(Campaign.objects.values_list("name", "status")) == [("Live", "stopped")]


def test_preview_renders_the_parts_with_the_sample_profile(admin_client: Client) -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {"subject": "Hi {{ profile.firstName }}", "html": "<p>{{ context.code }}</p>"},
            "pt": {"subject": "Olá {{ profile.firstName }}", "html": "<p>pt</p>"},
        }
    )

    response = admin_client.post(
        preview_url(campaign),
        {
            "locale": "pt-BR",
            "profile": json.dumps({"firstName": "Ana"}),
            "context": json.dumps({"code": "X1"}),
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "channel": "email",
        "locale": "pt",
        "parts": {"subject": "Olá Ana", "preheader": "", "html": "<p>pt</p>", "text": ""},
        "warnings": [],
    }


def test_preview_lists_the_variables_that_rendered_empty_beside_the_parts(
    admin_client: Client,
) -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {"subject": "Hi {{ profile.firstName }}", "html": "<p>{{ context.code }}</p>"}
        }
    )

    response = admin_client.post(
        preview_url(campaign), {"profile": "{}", "context": json.dumps({"code": "X1"})}
    )

    assert response.json()["parts"]["subject"] == "Hi "
    assert response.json()["warnings"] == [
        {
            "code": "empty_variable",
            "message": "{{ profile.firstName }} is missing or empty in the sample data, so it "
            "renders as nothing.",
            "field": "/content/en/subject",
            "variable": "profile.firstName",
        }
    ]


def _live_with_draft_edits() -> Campaign:
    campaign = CampaignFactory.create(
        content={
            "en": {
                "subject": "Live {{ profile.person.name.firstName }}",
                "html": "<p>{{ context.order.id }}</p>",
            }
        }
    )
    campaign = lifecycle.campaign_activate(campaign=campaign, actor=Actor.system())
    lifecycle.campaign_open_draft_version(campaign=campaign, actor=Actor.system())
    return campaign_update(
        campaign=campaign,
        data={
            "content": {
                "en": {"subject": "Draft {{ profile.nickname }}", "html": "{{ context.coupon }}"},
                "de": {"subject": "Entwurf", "html": "x"},
            }
        },
        actor=Actor.system(),
    )


def test_preview_of_a_live_campaign_renders_its_live_version(admin_client: Client) -> None:
    campaign = _live_with_draft_edits()

    response = admin_client.post(
        preview_url(campaign),
        {
            "locale": "de",
            "profile": json.dumps({"person": {"name": {"firstName": "Ana"}}, "nickname": "A"}),
            "context": json.dumps({"order": {"id": "A-1"}, "coupon": "C"}),
        },
    )

    assert response.json() == {
        "ok": True,
        "channel": "email",
        "locale": "en",
        "parts": {"subject": "Live Ana", "preheader": "", "html": "<p>A-1</p>", "text": ""},
        "warnings": [],
    }


def test_the_change_page_prefills_the_sample_with_the_variables_the_content_uses(
    admin_client: Client,
) -> None:
    draft = CampaignFactory.create(
        content={
            "en": {"subject": "Hi {{ profile.person.name.firstName }}", "html": "x"},
            "fr": {"subject": "{{ context.items[0].sku }}", "html": "{{ context.code }}"},
        }
    )
    live = _live_with_draft_edits()

    draft_page = admin_client.get(change_url(draft))
    live_page = admin_client.get(change_url(live))

    assert json.loads(draft_page.context["preview_sample_profile"]) == {
        "person": {"name": {"firstName": "<person.name.firstName>"}}
    }
    assert json.loads(draft_page.context["preview_sample_context"]) == {
        "code": "<code>",
        "items": [{"sku": "<items.0.sku>"}],
    }
    assert draft_page.context["campaign_locales"] == ["en", "fr"]
    html = draft_page.content.decode()
    assert "&quot;firstName&quot;: &quot;&lt;person.name.firstName&gt;&quot;" in html
    # A live campaign's sample, locales and curl request follow its live version.
    assert json.loads(live_page.context["preview_sample_profile"]) == {
        "person": {"name": {"firstName": "<person.name.firstName>"}}
    }
    assert json.loads(live_page.context["preview_sample_context"]) == {
        "order": {"id": "<order.id>"}
    }
    assert live_page.context["campaign_locales"] == ["en"]
    assert live_page.context["preview_of_live_version"] is True
    curl = live_page.context["curl_sample"]
    assert '"firstName": "<person.name.firstName>"' in curl
    assert "nickname" not in curl and "coupon" not in curl


def test_preview_explains_bad_json_and_template_errors(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    broken = CampaignFactory.create(content={"en": {"subject": "{{ profile.a | nope }}"}})

    bad_json = admin_client.post(preview_url(campaign), {"profile": "{name:", "context": "[]"})
    bad_template = admin_client.post(preview_url(broken), {"profile": "{}", "context": ""})

    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0].startswith("The sample profile is not valid JSON:")
    assert (
        bad_json.json()["errors"][1] == 'The sample context must be a JSON object, like {"a": 1}.'
    )
    assert bad_template.status_code == 400
    assert bad_template.json()["ok"] is False
    assert bad_template.json()["errors"][0].startswith("/content/en/subject: ")


class TestFourEyes:
    @pytest.fixture(autouse=True)
    def _approval_on(self, settings: SettingsWrapper) -> None:
        settings.CLARION_REQUIRE_APPROVAL = True

    def test_submit_then_approve_by_another_person(
        self, client: Client, marketer: User, approver: User
    ) -> None:
        campaign = CampaignFactory.create()
        client.force_login(marketer)

        review = client.get(review_url(campaign))
        assert [a["action"].name for a in review.context["actions"]] == ["submit_for_review"]
        refused = client.post(action_url(campaign, "activate"))
        assert messages_of(refused) == [
            "This installation requires approval: submit the campaign for review."
        ]
        client.post(action_url(campaign, "submit_for_review"))
        campaign.refresh_from_db()
        assert campaign.status == Status.IN_REVIEW
        actions = client.get(review_url(campaign)).context["actions"]
        assert [a["action"].name for a in actions] == ["reject"]
        not_allowed = client.post(action_url(campaign, "approve"))
        assert messages_of(not_allowed) == ["Approving needs the “approve campaigns” permission."]

        client.force_login(approver)
        actions = client.get(review_url(campaign)).context["actions"]
        assert [a["action"].name for a in actions] == ["approve", "reject"]
        client.post(action_url(campaign, "approve"))
        campaign.refresh_from_db()
        assert campaign.status == Status.LIVE

    def test_the_last_editor_cannot_approve(self, client: Client, approver: User) -> None:
        campaign = CampaignFactory.create()
        campaign_update(campaign=campaign, data={"description": "mine"}, actor=Actor(user=approver))
        lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=approver))
        client.force_login(approver)

        response = client.post(action_url(campaign, "approve"))

        assert messages_of(response) == [
            "You edited this campaign last; another approver must approve it."
        ]
        campaign.refresh_from_db()
        assert campaign.status == Status.IN_REVIEW

    def test_sending_back_returns_the_campaign_to_draft(
        self, client: Client, marketer: User, approver: User
    ) -> None:
        campaign = CampaignFactory.create()
        lifecycle.campaign_submit_for_review(campaign=campaign, actor=Actor(user=marketer))
        client.force_login(approver)

        client.post(action_url(campaign, "reject"))

        campaign.refresh_from_db()
        assert campaign.status == Status.DRAFT


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", reverse_lazy("admin:campaigns_campaign_review", args=["not-a-uuid"])),
        ("post", reverse_lazy("admin:campaigns_campaign_preview", args=["not-a-uuid"])),
        ("post", reverse_lazy("admin:campaigns_campaign_action", args=["not-a-uuid", "activate"])),
        ("post", reverse_lazy("admin:campaigns_campaign_action", args=["not-a-uuid", "stop"])),
    ],
)
def test_a_malformed_campaign_id_in_an_extra_page_is_404(
    admin_client: Client, method: str, url: str
) -> None:
    # given a campaign, so that a lookup that ignored the id would find something
    campaign = CampaignFactory.create()

    # when a page of the campaign admin is asked for with an id that is not a UUID
    response = getattr(admin_client, method)(url)

    # then it is not found, and nothing happened
    assert response.status_code == 404
    assert Campaign.objects.get().status == Status.DRAFT
    assert campaign.versions.count() == 0
    assert AuditEvent.objects.count() == 0
