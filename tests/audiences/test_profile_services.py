"""Profile services: deep merge, upsert, merge and erasure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from audiences.models import (
    Audience,
    AudienceMember,
    Consent,
    Identity,
    Profile,
    PushRegistration,
    Suppression,
)
from audiences.profile_input import profile_input_parse
from audiences.services.profiles import (
    IdentityConflict,
    deep_merge,
    profile_delete,
    profile_merge,
    profile_upsert,
)
from core.errors import FieldError, InvalidInput


def upsert(namespace: str, value: str, **data: Any) -> tuple[Profile, bool]:
    return profile_upsert(data=profile_input_parse(namespace=namespace, value=value, data=data))


def identities(profile: Profile) -> list[tuple[str, str]]:
    return [(i.namespace.code, i.value) for i in profile.identities.select_related("namespace")]


def consents(profile: Profile) -> dict[str, tuple[str, str]]:
    return {c.channel: (c.status, c.source) for c in Consent.objects.filter(profile=profile)}


# --- deep_merge ----------------------------------------------------------------------


def test_deep_merge_merges_nested_objects() -> None:
    base: dict[str, Any] = {
        "person": {"name": {"first": "Ana", "last": "Diaz"}, "age": 30},
        "tier": "gold",
    }

    merged = deep_merge(base, {"person": {"name": {"first": "Ana María"}}, "city": "Lyon"})

    assert merged == {
        "person": {"name": {"first": "Ana María", "last": "Diaz"}, "age": 30},
        "tier": "gold",
        "city": "Lyon",
    }
    assert base["person"]["name"]["first"] == "Ana"  # the input is not changed


def test_deep_merge_null_removes_a_key_at_any_level() -> None:
    base = {"person": {"name": {"first": "Ana", "last": "Diaz"}}, "tier": "gold"}

    merged = deep_merge(base, {"person": {"name": {"last": None}}, "tier": None, "gone": None})

    assert merged == {"person": {"name": {"first": "Ana"}}}


def test_deep_merge_drops_nulls_inside_a_new_object() -> None:
    merged = deep_merge({"tier": "gold"}, {"person": {"name": None, "age": 30}})

    assert merged == {"tier": "gold", "person": {"age": 30}}


def test_deep_merge_replaces_lists_and_scalars_by_objects() -> None:
    base = {"tags": ["a", "b"], "address": "12 rue X", "score": {"x": 1}}

    merged = deep_merge(base, {"tags": ["c"], "address": {"city": "Lyon"}, "score": 5})

    assert merged == {"tags": ["c"], "address": {"city": "Lyon"}, "score": 5}


# --- profile_upsert ------------------------------------------------------------------


@pytest.mark.django_db
def test_upsert_creates_a_profile_with_its_identity_and_address() -> None:
    profile, created = upsert(
        "email",
        "Ana@Example.com",
        attributes={"person": {"firstName": "Ana"}},
        locale="fr_ca",
        timeZone="America/Toronto",
    )

    assert created is True
    profile.refresh_from_db()
    assert profile.attributes == {"person": {"firstName": "Ana"}}
    assert (profile.locale, profile.time_zone) == ("fr-CA", "America/Toronto")
    assert (profile.email_address, profile.mobile_number) == ("ana@example.com", "")
    assert identities(profile) == [("email", "ana@example.com")]
    assert Profile.objects.count() == 1


@pytest.mark.django_db
def test_upsert_updates_the_same_profile_and_merges_attributes() -> None:
    first, _ = upsert("email", "ana@example.com", attributes={"person": {"firstName": "Ana"}})

    second, created = upsert(
        "email",
        "ANA@example.com",
        attributes={"person": {"lastName": "Diaz"}, "tags": ["vip"]},
        locale="en",
    )

    assert created is False
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.attributes == {
        "person": {"firstName": "Ana", "lastName": "Diaz"},
        "tags": ["vip"],
    }
    assert second.locale == "en"
    assert (Profile.objects.count(), Identity.objects.count()) == (1, 1)


@pytest.mark.django_db
def test_upsert_adds_extra_identities_and_their_addresses() -> None:
    profile, _ = upsert(
        "crm_id",
        " C-1 ",
        identities=[
            {"namespace": "phone", "value": "(416) 555-0100"},
            {"namespace": "email", "value": "Ana@Example.com"},
            {"namespace": "crm_id", "value": "C-1"},  # the same as the path: not repeated
        ],
    )

    assert sorted(identities(profile)) == [
        ("crm_id", "C-1"),
        ("email", "ana@example.com"),
        ("phone", "+14165550100"),
    ]
    assert (profile.email_address, profile.mobile_number) == ("ana@example.com", "+14165550100")
    # Found by any of its identities.
    again, created = upsert("phone", "+1 416 555 0100", attributes={"x": 1})
    assert (again.pk, created) == (profile.pk, False)
    assert Identity.objects.count() == 3


@pytest.mark.django_db
def test_upsert_sets_consent_per_channel() -> None:
    profile, _ = upsert("email", "ana@example.com", consent={"email": "opted_in"})

    upsert(
        "email",
        "ana@example.com",
        consent={"email": "opted_out", "sms": "opted_in"},
        consentSource="signup form",
    )

    assert consents(profile) == {
        "email": ("opted_out", "signup form"),
        "sms": ("opted_in", "signup form"),
    }


@pytest.mark.django_db
def test_upsert_with_identities_of_two_profiles_is_a_conflict() -> None:
    ana, _ = upsert("email", "ana@example.com", attributes={"n": 1})
    upsert("phone", "+14165550100")

    with pytest.raises(IdentityConflict) as error:
        upsert(
            "email",
            "ana@example.com",
            attributes={"n": 2},
            identities=[{"namespace": "phone", "value": "+14165550100"}],
        )

    assert (error.value.status, error.value.code) == (409, "identity_conflict")
    assert error.value.errors == [FieldError("/identities", "Identities of 2 different profiles.")]
    ana.refresh_from_db()
    assert ana.attributes == {"n": 1}
    assert (Profile.objects.count(), Identity.objects.count()) == (2, 2)


# --- profile_merge -------------------------------------------------------------------


@pytest.mark.django_db
def test_merge_moves_everything_into_the_kept_profile() -> None:
    now = timezone.now()
    keep, _ = upsert(
        "email", "ana@example.com", attributes={"tier": "gold", "person": {"firstName": "Ana"}}
    )
    absorb, _ = upsert(
        "phone",
        "+14165550100",
        attributes={"tier": "silver", "person": {"lastName": "Diaz"}, "city": "Lyon"},
        locale="fr",
    )
    Consent.objects.create(profile=keep, channel="email", status="opted_in", updated_at=now)
    Consent.objects.create(
        profile=absorb,
        channel="email",
        status="opted_out",
        source="unsub",
        updated_at=now + timedelta(hours=1),
    )
    Consent.objects.create(
        profile=keep,
        channel="sms",
        status="opted_in",
        source="keep",
        updated_at=now + timedelta(hours=2),
    )
    Consent.objects.create(
        profile=absorb, channel="sms", status="opted_out", source="old", updated_at=now
    )
    PushRegistration.objects.create(profile=absorb, app_id="app", platform="ios", token="t1")
    both, only_absorb = Audience.objects.create(name="Both"), Audience.objects.create(name="One")
    AudienceMember.objects.create(audience=both, profile=keep)
    AudienceMember.objects.create(audience=both, profile=absorb)
    AudienceMember.objects.create(audience=only_absorb, profile=absorb)

    kept = profile_merge(keep=keep, absorb=absorb)

    assert kept.pk == keep.pk
    assert not Profile.objects.filter(pk=absorb.pk).exists()
    kept.refresh_from_db()
    assert kept.attributes == {
        "tier": "gold",
        "person": {"firstName": "Ana", "lastName": "Diaz"},
        "city": "Lyon",
    }
    assert (kept.locale, kept.email_address, kept.mobile_number) == (
        "fr",
        "ana@example.com",
        "+14165550100",
    )
    assert sorted(identities(kept)) == [("email", "ana@example.com"), ("phone", "+14165550100")]
    assert {
        c.channel: (c.status, c.source, c.updated_at) for c in Consent.objects.filter(profile=kept)
    } == {
        "email": ("opted_out", "unsub", now + timedelta(hours=1)),  # more recent: theirs
        "sms": ("opted_in", "keep", now + timedelta(hours=2)),  # more recent: mine
    }
    assert list(PushRegistration.objects.values_list("profile_id", "token")) == [(kept.pk, "t1")]
    assert sorted(AudienceMember.objects.values_list("audience__name", "profile_id")) == [
        ("Both", kept.pk),
        ("One", kept.pk),
    ]


@pytest.mark.django_db
def test_merge_into_itself_is_refused() -> None:
    profile, _ = upsert("email", "ana@example.com")

    with pytest.raises(InvalidInput):
        profile_merge(keep=profile, absorb=profile)

    assert Profile.objects.count() == 1


# --- profile_delete ------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_leaves_no_personal_data_but_keeps_suppressions() -> None:
    profile, _ = upsert(
        "email",
        "ana@example.com",
        attributes={"person": {"firstName": "Ana"}},
        identities=[{"namespace": "phone", "value": "+14165550100"}],
        consent={"email": "opted_in"},
    )
    PushRegistration.objects.create(profile=profile, app_id="app", platform="ios", token="t1")
    AudienceMember.objects.create(audience=Audience.objects.create(name="VIP"), profile=profile)
    Suppression.objects.create(channel="email", address="ana@example.com", reason="hard_bounce")
    other, _ = upsert("email", "bob@example.com", consent={"email": "opted_in"})

    profile_delete(profile=profile)

    assert list(Profile.objects.all()) == [other]
    assert not Identity.objects.filter(profile_id=profile.pk).exists()
    assert not Consent.objects.filter(profile_id=profile.pk).exists()
    assert not PushRegistration.objects.exists()
    assert not AudienceMember.objects.exists()
    personal = Q(value__in=["ana@example.com", "+14165550100"])
    assert not Identity.objects.filter(personal).exists()
    assert not Profile.objects.filter(
        Q(email_address="ana@example.com") | Q(mobile_number="+14165550100")
    ).exists()
    assert Identity.objects.count() == Consent.objects.count() == 1  # Bob's, untouched
    # Kept on purpose: erasing a person must not let mail flow to a bounced address again.
    assert list(Suppression.objects.values_list("address", "reason")) == [
        ("ana@example.com", "hard_bounce")
    ]
