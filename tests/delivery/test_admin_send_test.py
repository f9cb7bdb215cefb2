"""“Send test” on a campaign: its live version to a typed address, through the real pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from audiences.models import Audience, IdentityNamespace
from campaigns.models import AuditEvent, Campaign
from delivery.models import Execution, Message, MessageAttempt
from tests.delivery.admin_helpers import staff_with
from tests.factories import CampaignFactory, SmsConfigurationFactory

pytestmark = pytest.mark.django_db


def _url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_send_test", args=[campaign.pk])


def _post(client: Client, campaign: Campaign, address: str, **data: object) -> Any:
    return client.post(
        _url(campaign),
        {
            "address": address,
            "profile": json.dumps(data.get("profile", {})),
            "context": json.dumps(data.get("context", {})),
        },
    )


def test_a_test_is_sent_to_the_typed_address_and_recorded_as_a_test(
    admin_client: Client, live_campaign, send_inline
) -> None:
    campaign = live_campaign()
    form_page = admin_client.get(_url(campaign))
    change_page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    response = _post(
        admin_client,
        campaign,
        " Ana@Example.com ",
        profile={"person": {"name": {"firstName": "Ana"}}},
        context={"product": {"name": "Jackets"}},
    )

    assert f'href="{_url(campaign)}" class="clarion-send-test-link"' in change_page.content.decode()
    # The form starts with every variable the content uses.
    assert json.loads(form_page.context["form"].initial["profile"]) == {
        "person": {"name": {"firstName": "<person.name.firstName>"}}
    }
    assert form_page.context["form"].fields["address"].label == "Email address"
    assert response.status_code == 200
    message = Message.objects.get()
    assert response.context["result"] == message
    assert response.context["result_summary"] == "Sent to ana@example.com."
    assert (message.status, message.recipient_type, message.address) == (
        "sent",
        "external",
        "ana@example.com",
    )
    assert message.profile is None
    assert message.execution.is_test is True
    assert message.execution.status == "succeeded"
    assert message.version_id == campaign.live_version_id
    assert [a.outcome for a in MessageAttempt.objects.filter(message=message)] == ["sent"]
    event = AuditEvent.objects.get(campaign=campaign, action="send_test")
    assert event.actor is not None and event.actor.username == "admin"
    assert event.detail == {
        "messageId": str(message.pk),
        "channel": "email",
        "to": "ana@example.com",
    }
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert mail.outbox[0].subject == "Thanks Ana"
    assert "Jackets" in mail.outbox[0].body


def test_a_bad_address_is_explained_at_the_field_and_nothing_is_sent(
    admin_client: Client, live_campaign, send_inline
) -> None:
    campaign = live_campaign()

    response = _post(admin_client, campaign, "not an address")

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "address": [
            "“not an address” is not a valid email address: An email address must have an @-sign."
        ]
    }
    assert response.context["result"] is None
    assert Execution.objects.count() == 0
    assert Message.objects.count() == 0
    assert not AuditEvent.objects.filter(action="send_test").exists()
    assert mail.outbox == []


def test_bad_json_is_explained_and_nothing_is_sent(
    admin_client: Client, live_campaign, send_inline
) -> None:
    campaign = live_campaign()

    response = admin_client.post(
        _url(campaign), {"address": "ana@example.com", "profile": "{name:", "context": "[]"}
    )

    form = response.context["form"]
    assert form.errors == {
        "profile": [
            "The profile is not valid JSON: Expecting property name enclosed in double quotes "
            "(line 1)."
        ],
        "context": ['The context must be a JSON object, like {"a": 1}.'],
    }
    assert Message.objects.count() == 0
    assert mail.outbox == []


def test_a_failed_test_shows_its_reason(admin_client: Client, live_campaign, send_inline) -> None:
    campaign = live_campaign(
        content={"en": {"subject": "{{ 10 | divided_by: context.n }}", "html": "x", "text": "x"}}
    )

    response = _post(admin_client, campaign, "ana@example.com", context={"n": 0})

    message = Message.objects.get()
    assert (message.status, message.reason) == ("failed", "render_failed")
    assert response.context["result_summary"] == (
        "Not sent: render_failed divided_by: can't divide by 0 (line 1, column 9)"
    )
    assert 'class="clarion-send-result status-failed"' in response.content.decode()
    assert mail.outbox == []


def test_a_marketing_test_skips_the_consent_check(
    admin_client: Client, live_campaign, send_inline
) -> None:
    audience = Audience.objects.create(name="Everyone", kind="static")
    campaign = live_campaign(category="marketing", audience=audience)

    _post(admin_client, campaign, "ana@example.com")

    message = Message.objects.get()
    assert message.status == "sent"
    assert len(mail.outbox) == 1


def test_an_sms_test_takes_a_phone_number_written_any_way(
    admin_client: Client, live_campaign, send_inline, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.CLARION_OUTBOX_DIR = tmp_path
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        content={"en": {"body": "Code {{ context.code }}"}},
    )
    label = admin_client.get(_url(campaign)).context["form"].fields["address"].label

    response = _post(admin_client, campaign, "(416) 555-0100", context={"code": "99"})

    message = Message.objects.get()
    assert label == "Mobile number"
    assert response.context["result_summary"] == "Sent to +14165550100."
    name, line = message.provider_message_id.split("#")
    written = json.loads((tmp_path / "sms" / name).read_text().splitlines()[int(line) - 1])
    assert (written["to"], written["content"]) == ("+14165550100", {"body": "Code 99"})


def test_without_the_trigger_permission_there_is_no_button_and_no_send(
    client: Client, live_campaign, send_inline
) -> None:
    campaign = live_campaign()
    client.force_login(staff_with("view_campaign", "change_campaign", username="writer"))

    change_page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    form_page = client.get(_url(campaign))
    sent = _post(client, campaign, "ana@example.com")

    assert change_page.status_code == 200
    assert "clarion-send-test-link" not in change_page.content.decode()
    assert form_page.status_code == 403
    assert sent.status_code == 403
    assert Message.objects.count() == 0
    assert mail.outbox == []


def test_with_the_trigger_permission_a_colleague_can_send_a_test(
    client: Client, live_campaign, send_inline
) -> None:
    campaign = live_campaign()
    client.force_login(staff_with("view_campaign", "trigger_campaign", username="tester"))

    response = _post(client, campaign, "ana@example.com")

    assert response.context["result_summary"] == "Sent to ana@example.com."
    assert len(mail.outbox) == 1


def test_a_draft_cannot_be_tested(admin_client: Client, send_inline) -> None:
    campaign = CampaignFactory.create()

    page = admin_client.get(_url(campaign))
    change_page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    response = _post(admin_client, campaign, "ana@example.com")

    assert "Only a live campaign can be tested: activate it first." in page.content.decode()
    assert "clarion-send-test-link" not in change_page.content.decode()
    assert response.context["form"].non_field_errors() == [
        "Only a live campaign can be tested: activate it first."
    ]
    assert Message.objects.count() == 0
    assert mail.outbox == []
