"""The Profiles and Suppression admin: search by identity, change page, erase and merge."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audiences.models import (
    Audience,
    Consent,
    Identity,
    IdentityNamespace,
    Profile,
    PushRegistration,
    Suppression,
)
from audiences.profile_input import profile_input_parse
from audiences.services.profiles import profile_upsert

CHANGELIST = reverse("admin:audiences_profile_changelist")


def upsert(namespace: str, value: str, **data: Any) -> Profile:
    profile, _created = profile_upsert(
        data=profile_input_parse(namespace=namespace, value=value, data=data)
    )
    return profile


def change_url(profile: Profile) -> str:
    return reverse("admin:audiences_profile_change", args=[profile.pk])


def inline_management(prefix: str, total: int, initial: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def ana(db: None) -> Profile:
    return upsert(
        "email",
        "ana@example.com",
        attributes={"person": {"firstName": "Ana"}, "tier": "gold"},
        identities=[{"namespace": "phone", "value": "+14165550100"}],
        consent={"email": "opted_in"},
        locale="fr-CA",
    )


def listed_ids(response: Any) -> list[str]:
    return [str(p.pk) for p in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "term", ["ana@example.com", "ANA@Example.com", "ana@exam", "+14165550100", "(416) 555-0100"]
)
def test_search_by_any_identity_finds_the_profile(
    admin_client: Client, ana: Profile, term: str
) -> None:
    upsert("email", "bob@example.com", identities=[{"namespace": "crm_id", "value": "C-9"}])

    response = admin_client.get(CHANGELIST, {"q": term})

    assert response.status_code == 200
    assert listed_ids(response) == [str(ana.pk)]


def test_changelist_shows_primary_identity_and_locale(admin_client: Client, ana: Profile) -> None:
    response = admin_client.get(CHANGELIST)

    content = response.content.decode()
    assert "email:ana@example.com" in content
    assert "fr-CA" in content


def test_profiles_are_named_by_their_primary_identity_in_list_title_and_breadcrumbs(
    admin_client: Client, ana: Profile
) -> None:
    nameless = Profile.objects.create()

    listed = admin_client.get(CHANGELIST).content.decode()
    change = admin_client.get(change_url(ana)).content.decode()

    # email before phone; built-in namespaces before custom ones
    assert str(ana) == "email:ana@example.com"
    assert str(nameless) == f"Profile {str(nameless.pk)[:8]}"
    assert f'<a href="{change_url(ana)}">email:ana@example.com</a>' in listed
    assert "<title>email:ana@example.com | Change profile | Clarion</title>" in change
    assert "&rsaquo; email:ana@example.com\n" in change  # the breadcrumb


def test_the_profile_list_reads_identities_in_one_query_whatever_the_page_size(
    admin_client: Client,
) -> None:
    upsert("email", "one@example.com")
    admin_client.get(CHANGELIST)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    for n in range(10):
        upsert("email", f"p{n}@example.com", identities=[{"namespace": "crm_id", "value": f"C{n}"}])

    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(CHANGELIST).content.decode()

    assert "email:p9@example.com" in page
    assert len(many) == len(few)


def test_change_page_shows_attributes_identities_consent_and_suppressions(
    admin_client: Client, ana: Profile
) -> None:
    PushRegistration.objects.create(profile=ana, app_id="shop", platform="ios", token="tok-1")
    Suppression.objects.create(channel="email", address="ana@example.com", reason="complaint")
    Suppression.objects.create(channel="email", address="other@example.com", reason="manual")

    response = admin_client.get(change_url(ana))

    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    pretty = '{\n  "person": {\n    "firstName": "Ana"\n  },\n  "tier": "gold"\n}'
    assert f'<pre class="clarion-json">{pretty}</pre>' in content
    assert 'value="ana@example.com"' in content  # identity inline
    assert 'value="+14165550100"' in content
    assert ">\ntok-1</textarea>" in content  # push inline (token is a text area)
    consent_form = response.context["inline_admin_formsets"][2].formset.forms[0]
    assert (consent_form.instance.channel, consent_form.instance.status) == ("email", "opted_in")
    assert "<td>ana@example.com</td><td>Spam complaint</td>" in content
    assert "other@example.com" not in content
    # The Messages section comes from delivery (tests/delivery/test_admin_profile.py).
    assert "No message has been sent to this profile yet." in content


def _change_form(profile: Profile, identities: list[tuple[Identity | None, str, str]]) -> dict:
    data: dict[str, Any] = {
        "locale": profile.locale,
        "time_zone": "",
        "attributes": '{"tier": "silver"}',
        "email_address": "ANA@example.com",
        "mobile_number": "(416) 555-0100",
        **inline_management("identities", len(identities), sum(1 for i in identities if i[0])),
        **inline_management("push_registrations", 0, 0),
        **inline_management("consents", 0, 0),
    }
    for index, (identity, namespace, value) in enumerate(identities):
        code_pk = IdentityNamespace.objects.get(code=namespace).pk
        data[f"identities-{index}-id"] = str(identity.pk) if identity else ""
        data[f"identities-{index}-profile"] = str(profile.pk)
        data[f"identities-{index}-namespace"] = str(code_pk)
        data[f"identities-{index}-value"] = value
    return data


def test_saving_normalises_identities_and_addresses(admin_client: Client, ana: Profile) -> None:
    Consent.objects.filter(profile=ana).delete()
    existing = list(ana.identities.order_by("namespace__code"))
    data = _change_form(
        ana,
        [
            (existing[0], "email", "ana@example.com"),
            (existing[1], "phone", "+14165550100"),
            (None, "phone", " +33 1 42 68 53 00 "),
        ],
    )

    response = admin_client.post(change_url(ana), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    ana.refresh_from_db()
    assert ana.attributes == {"tier": "silver"}
    assert (ana.email_address, ana.mobile_number) == ("ana@example.com", "+14165550100")
    assert sorted(ana.identities.values_list("value", flat=True)) == [
        "+14165550100",
        "+33142685300",
        "ana@example.com",
    ]


def test_an_invalid_identity_is_shown_at_its_field(admin_client: Client, ana: Profile) -> None:
    Consent.objects.filter(profile=ana).delete()
    data = _change_form(ana, [(None, "email", "not-an-email")])
    data["identities-INITIAL_FORMS"] = "0"

    response = admin_client.post(change_url(ana), data)

    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert form.errors == {
        "value": [
            "“not-an-email” is not a valid email address: An email address must have an @-sign."
        ]
    }
    assert Identity.objects.filter(profile=ana).count() == 2


def test_erase_action_erases_selected_profiles(admin_client: Client, ana: Profile) -> None:
    bob = upsert("email", "bob@example.com")

    response = admin_client.post(
        CHANGELIST, {"action": "erase_profiles", "_selected_action": [str(ana.pk)]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == ["Erased 1 profile."]
    assert list(Profile.objects.all()) == [bob]
    assert list(Identity.objects.values_list("value", flat=True)) == ["bob@example.com"]
    assert Consent.objects.count() == 0


def test_merge_action_keeps_the_older_profile(admin_client: Client, ana: Profile) -> None:
    newer = upsert("crm_id", "C-1", attributes={"tier": "bronze", "city": "Lyon"})
    Profile.objects.filter(pk=newer.pk).update(created_at=ana.created_at + timedelta(days=1))

    response = admin_client.post(
        CHANGELIST,
        {"action": "merge_profiles", "_selected_action": [str(newer.pk), str(ana.pk)]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Merged profile crm_id:C-1 into email:ana@example.com."
    ]
    assert list(Profile.objects.all()) == [ana]
    ana.refresh_from_db()
    assert ana.attributes == {"person": {"firstName": "Ana"}, "tier": "gold", "city": "Lyon"}
    assert Identity.objects.filter(profile=ana).count() == 3


def test_merge_action_needs_exactly_two(admin_client: Client, ana: Profile) -> None:
    response = admin_client.post(
        CHANGELIST, {"action": "merge_profiles", "_selected_action": [str(ana.pk)]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Select exactly two profiles to merge."
    ]
    assert Profile.objects.count() == 1


def test_suppression_admin_normalises_and_filters(admin_client: Client) -> None:
    add = reverse("admin:audiences_suppression_add")

    saved = admin_client.post(
        add, {"channel": "sms", "address": "(416) 555-0100", "reason": "manual", "note": ""}
    )
    refused = admin_client.post(
        add, {"channel": "email", "address": "nope", "reason": "manual", "note": ""}
    )
    listed = admin_client.get(
        reverse("admin:audiences_suppression_changelist"), {"channel": "sms", "q": "+1416"}
    )

    assert saved.status_code == 302
    assert list(Suppression.objects.values_list("channel", "address")) == [("sms", "+14165550100")]
    assert refused.context["adminform"].form.errors == {
        "address": ["“nope” is not a valid email address: An email address must have an @-sign."]
    }
    assert [s.address for s in listed.context["cl"].result_list] == ["+14165550100"]
    assert timezone.now() >= Suppression.objects.get().created_at


def test_the_audience_sample_names_profiles_by_their_primary_identity(
    admin_client: Client, ana: Profile
) -> None:
    audience = Audience.objects.create(
        name="Everyone",
        kind=Audience.Kind.RULES,
        rules={
            "combinator": "and",
            "conditions": [{"field": "identity.email", "operator": "exists"}],
        },
    )

    page = admin_client.get(
        reverse("admin:audiences_audience_change", args=[audience.pk])
    ).content.decode()

    assert f'<a href="{change_url(ana)}">email:ana@example.com</a>' in page
