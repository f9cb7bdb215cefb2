"""Erasing a profile: its messages keep their status but forget the person."""

from __future__ import annotations

from audiences.models import Identity, Profile
from audiences.services.profiles import profile_delete
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Message, MessageAttempt


def test_erasing_a_profile_blanks_what_its_messages_copied(
    api_client, live_campaign, published
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    body = {
        "requestId": "erase-1",
        "campaignId": str(campaign.pk),
        "recipients": [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "ana@example.com",
                "profile": {"person": {"name": {"firstName": "Ana"}}},
                "context": {"order": "A-1"},
            },
            {"type": "external", "userId": "bo@example.com"},
        ],
    }
    assert client.post("/api/v1/executions/unitary", body, format="json").status_code == 202
    profile = Identity.objects.get(value="ana@example.com").profile

    profile_delete(profile=profile)

    assert not Profile.objects.filter(pk=profile.pk).exists()
    erased = Message.objects.get(position=0)
    assert (erased.profile_id, erased.address, erased.user_id) == (None, "", "")
    assert (erased.recipient_profile, erased.recipient_context, erased.status) == ({}, {}, "queued")
    other = Message.objects.get(position=1)
    assert (other.address, other.user_id) == ("bo@example.com", "bo@example.com")


def test_erasing_a_profile_blanks_the_providers_words_about_its_messages(
    api_client, live_campaign, published
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    body = {
        "requestId": "erase-2",
        "campaignId": str(campaign.pk),
        "recipients": [{"type": "aep", "namespace": "email", "userId": "ana@example.com"}],
    }
    assert (
        api_client(EXECUTIONS_TRIGGER).post("/api/v1/executions/unitary", body, format="json")
    ).status_code == 202
    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(
        status="failed", reason="smtp_550", reason_detail="550 <ana@example.com>: no such user"
    )
    MessageAttempt.objects.create(
        message=message,
        number=1,
        outcome="failed",
        code="smtp_550",
        detail="550 <ana@example.com>: no such user",
    )

    profile_delete(profile=Identity.objects.get(value="ana@example.com").profile)

    message.refresh_from_db()
    assert (message.status, message.reason, message.reason_detail) == ("failed", "smtp_550", "")
    assert list(MessageAttempt.objects.values_list("code", "detail")) == [("smtp_550", "")]
