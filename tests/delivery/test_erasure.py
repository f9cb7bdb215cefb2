"""Erasing a profile: its messages keep their status but forget the person."""

from __future__ import annotations

from audiences.models import Identity, Profile
from audiences.services.profiles import profile_delete
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Message


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
