"""Every payload shape of the brief's unitary call is accepted (202) and sent as expected.

Messages are sent inline after the commit (``send_inline``), so ``mail.outbox``
holds what the SMTP server would get.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from audiences.models import Identity, IdentityNamespace, Profile
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, IdempotencyRecord, Message
from tests.delivery.trigger_calls import UNITARY, aep, external, stored_profile, unitary
from tests.factories import PushConfigurationFactory, SmsConfigurationFactory

pytestmark = pytest.mark.django_db

CONTENT = {
    "en": {
        "subject": "Thanks {{ profile.person.name.firstName }} {{ profile.person.name.lastName }}",
        "html": "<p>{{ context.product.name }}</p>",
        "text": (
            "{{ context.product.name }}|{{ context.product.sku }}|{{ context.offerCode }}|"
            "{{ context.shared }}|{{ profile.loyalty.tier }}"
        ),
    }
}
BRIEF_RECIPIENT = {
    "type": "aep",
    "namespace": "email",
    "userId": "ana@example.com",
    "channelData": {"emailAddress": "ana.work@example.com"},
    "profile": {"person": {"name": {"firstName": "Ana"}}},
    "context": {"product": {"name": "Jackets"}, "offerCode": "THANKS"},
}
CALL_CONTEXT = {"shared": "for everyone", "offerCode": "CALL", "product": {"sku": "J-42"}}
STORED = {
    "person": {"name": {"firstName": "Stored", "lastName": "Silva"}},
    "loyalty": {"tier": "gold"},
}


def _post(client: Any, body: dict[str, Any], capture: Any) -> Any:
    with capture(execute=True):
        return client.post(UNITARY, body, format="json")


def test_the_brief_sample_call_is_accepted_and_merged_over_the_stored_profile(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    # given a known profile with stored attributes, and the brief's sample call with
    # a call-level context and the reference's ignored merge-policy fields
    campaign = live_campaign(content=CONTENT)
    profile = stored_profile(attributes=STORED)
    recipient = {**BRIEF_RECIPIENT, "mergePolicyName": "Default", "mergePolicySchema": "x"}
    body = unitary(campaign, recipient, request_id="3126743632163793", context=CALL_CONTEXT)
    body["mergePolicyName"] = "Default Timebased"

    # when
    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    # then: 202 with the execution and one queued message
    assert response.status_code == 202, response.content
    execution = Execution.objects.get()
    message = Message.objects.get()
    assert response.json() == {
        "executionId": str(execution.pk),
        "requestId": "3126743632163793",
        "campaignId": str(campaign.pk),
        "status": "queued",
        "recipients": [
            {"userId": "ana@example.com", "messageId": str(message.pk), "status": "queued"}
        ],
        "createdAt": response.json()["createdAt"],
    }
    assert response["Location"] == f"/api/v1/executions/{execution.pk}"
    # the address comes from channelData; the recipient's profile and context win over
    # the stored attributes and the call's context, key by key
    assert [email.to for email in mail.outbox] == [["ana.work@example.com"]]
    email = mail.outbox[0]
    assert email.subject == "Thanks Ana Silva"
    assert email.body.splitlines()[0] == "Jackets|J-42|THANKS|for everyone|gold"
    assert message.profile_id == profile.pk
    assert message.address == "ana.work@example.com"
    assert message.status == "sent"
    # the call's data is the message's, never the stored profile's
    profile.refresh_from_db()
    assert profile.attributes == STORED
    assert message.recipient_profile == BRIEF_RECIPIENT["profile"]
    assert message.recipient_context == BRIEF_RECIPIENT["context"]
    assert execution.context == CALL_CONTEXT
    assert IdempotencyRecord.objects.get().key == "3126743632163793"


def test_an_unknown_aep_recipient_gets_a_profile_with_only_its_identity(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(content=CONTENT, create_new_profiles=True)
    body = unitary(
        campaign,
        aep(
            "New.Person@Example.com",
            profile={"person": {"name": {"firstName": "Nia", "lastName": "Obi"}}},
            context={"product": {"name": "Boots", "sku": "B-1"}, "offerCode": "HI"},
        ),
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    profile = Profile.objects.get()
    assert profile.attributes == {}  # the call's profile is for this message only
    assert profile.email_address == "new.person@example.com"
    assert list(Identity.objects.values_list("namespace__code", "value", "profile")) == [
        ("email", "new.person@example.com", profile.pk)
    ]
    message = Message.objects.get()
    assert message.profile_id == profile.pk
    assert message.user_id == "New.Person@Example.com"  # as the caller sent it
    assert [email.to for email in mail.outbox] == [["new.person@example.com"]]
    assert mail.outbox[0].subject == "Thanks Nia Obi"
    assert mail.outbox[0].body.splitlines()[0] == "Boots|B-1|HI||"


def test_a_known_aep_recipient_needs_no_profile_creation(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(content=CONTENT, create_new_profiles=False)
    profile = stored_profile("ana@example.com", attributes=STORED)

    response = _post(
        api_client(EXECUTIONS_TRIGGER),
        unitary(campaign, aep("ANA@example.com")),
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 202, response.content
    assert Profile.objects.get().pk == profile.pk
    assert [email.to for email in mail.outbox] == [["ana@example.com"]]
    assert mail.outbox[0].subject == "Thanks Stored Silva"
    assert mail.outbox[0].body.splitlines()[0] == "||||gold"


def test_external_recipients_never_touch_the_profile_store(
    api_client, live_campaign, send_inline, django_capture_on_commit_callbacks
) -> None:
    # given an existing profile with the same address as an external recipient
    campaign = live_campaign(content=CONTENT, create_new_profiles=True)
    existing = stored_profile("ana@example.com", attributes=STORED)
    body = unitary(
        campaign,
        external(
            "order-1001",
            channelData={"emailAddress": "Ana@Example.com"},
            profile={"person": {"name": {"firstName": "Ana", "lastName": "Lima"}}},
            context={"product": {"name": "Hats"}},
        ),
        external("bo@example.com", namespace="email", mergePolicyName="ignored"),
        context={"offerCode": "CALL", "product": {"sku": "H-7"}},
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    # then: sent to the channelData address, or to a userId in the email namespace,
    # with the call's data only; no profile is created, read into or linked
    assert response.status_code == 202, response.content
    assert list(Profile.objects.values_list("pk", flat=True)) == [existing.pk]
    assert Identity.objects.count() == 1
    messages = list(Message.objects.order_by("position"))
    assert [(m.recipient_type, m.profile_id, m.address) for m in messages] == [
        ("external", None, "ana@example.com"),
        ("external", None, "bo@example.com"),
    ]
    sent = {email.to[0]: email for email in mail.outbox}
    assert sorted(sent) == ["ana@example.com", "bo@example.com"]
    assert sent["ana@example.com"].subject == "Thanks Ana Lima"
    assert sent["ana@example.com"].body.splitlines()[0] == "Hats|H-7|CALL||"
    assert sent["bo@example.com"].subject == "Thanks  "
    assert sent["bo@example.com"].body.splitlines()[0] == "|H-7|CALL||"


def test_an_sms_campaign_takes_the_number_from_channel_data_or_a_phone_user_id(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "Hi {{ profile.name }}"}},
    )
    body = unitary(
        campaign,
        {"type": "aep", "namespace": "phone", "userId": "+1 (416) 555-0100"},
        external("order-7", channelData={"mobilePhoneNumber": "+44 20 7946 0958"}),
    )

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    messages = list(Message.objects.order_by("position"))
    assert [(m.channel, m.address) for m in messages] == [
        ("sms", "+14165550100"),
        ("sms", "+442079460958"),
    ]
    assert Profile.objects.get().mobile_number == "+14165550100"
    assert published == [[str(m.pk) for m in messages]]


def test_a_push_campaign_takes_the_device_from_push_info(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(
        channel="push",
        channel_configuration=PushConfigurationFactory.create(),
        content={"en": {"title": "Hi", "body": "{{ context.x }}"}},
    )
    push_info = {"appID": "com.example.shop", "platform": "android", "token": "tok-1"}
    body = unitary(campaign, external("device-1", channelData={"pushInfo": push_info}))

    response = _post(api_client(EXECUTIONS_TRIGGER), body, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    message = Message.objects.get()
    assert (message.channel, message.address, message.push_info) == ("push", "tok-1", push_info)
    assert published == [[str(message.pk)]]
