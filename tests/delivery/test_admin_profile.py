"""The profile page's "Messages" section, added by delivery to audiences' profile admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from audiences.admin.profiles import ProfileAdmin
from audiences.models import Identity, Profile
from core.scopes import EXECUTIONS_TRIGGER
from delivery.admin.profiles import PROFILE_MESSAGES_SHOWN
from delivery.models import Message
from tests.delivery.admin_helpers import recipient, staff_with, trigger

pytestmark = pytest.mark.django_db


def _profile_url(profile: Profile) -> str:
    return reverse("admin:audiences_profile_change", args=[profile.pk])


def test_the_profile_page_lists_the_latest_messages_and_links_to_all(
    admin_client: Client,
    api_client,
    live_campaign,
    published,
    django_capture_on_commit_callbacks,
) -> None:
    campaign = live_campaign(name="Receipts", create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    for number in range(PROFILE_MESSAGES_SHOWN + 1):
        trigger(
            client,
            django_capture_on_commit_callbacks,
            campaign,
            [recipient("ana@example.com"), recipient(f"other{number}@example.com")],
            request_id=f"order-{number}",
        )
    ana = Identity.objects.get(value="ana@example.com").profile
    hers = list(Message.objects.filter(profile=ana).order_by("-accepted_at"))
    assert len(hers) == 21

    response = admin_client.get(_profile_url(ana))

    page = response.content.decode()
    assert response.status_code == 200
    assert [m.pk for m in response.context["profile_messages"]] == [m.pk for m in hers[:20]]
    assert page.count('<tr class="clarion-profile-message">') == 20
    assert "The latest 20 messages are shown." in page
    assert f'href="/admin/delivery/message/{hers[0].pk}/change/"' in page
    assert "other1@example.com" not in page
    all_url = f"/admin/delivery/message/?profile={ana.pk}"
    assert f'href="{all_url}"' in page
    listed = admin_client.get(all_url)
    assert sorted(m.pk for m in listed.context["cl"].result_list) == sorted(m.pk for m in hers)


def test_a_profile_without_messages_says_so_and_saving_it_still_works(
    admin_client: Client,
) -> None:
    profile = Profile.objects.create(locale="en")

    page = admin_client.get(_profile_url(profile)).content.decode()
    saved = admin_client.post(
        _profile_url(profile),
        {
            "locale": "fr",
            "time_zone": "",
            "attributes": "{}",
            "email_address": "",
            "mobile_number": "",
            **{
                f"{prefix}-{name}": "0"
                for prefix in ("identities", "push_registrations", "consents")
                for name in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )

    assert "No message has been sent to this profile yet." in page
    assert saved.status_code == 302
    assert Profile.objects.get(pk=profile.pk).locale == "fr"


def test_the_section_is_hidden_from_users_who_may_not_view_messages(client: Client) -> None:
    profile = Profile.objects.create()
    client.force_login(staff_with("view_profile", "change_profile"))

    response = client.get(_profile_url(profile))

    assert response.status_code == 200
    assert "profile_messages" not in response.context
    assert "clarion-profile-messages" not in response.content.decode()


def test_delivery_extends_the_registered_profile_admin() -> None:
    registered = admin.site.get_model_admin(Profile)

    assert isinstance(registered, ProfileAdmin)
    assert type(registered).__module__ == "delivery.admin.profiles"
