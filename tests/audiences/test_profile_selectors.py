"""Profile selectors: the one resolver from an identity to a profile, and its relations."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audiences.models import IdentityNamespace, Profile, PushRegistration
from audiences.profile_input import profile_input_parse
from audiences.selectors import (
    NAMESPACES_MEMO_SECONDS,
    ProfileNotFound,
    UnknownNamespace,
    identity_namespace_get,
    identity_namespaces,
    identity_namespaces_forget,
    profile_resolve,
    profile_with_relations,
)
from audiences.services.profiles import profile_upsert
from core.errors import FieldError, InvalidInput

pytestmark = pytest.mark.django_db


def upsert(namespace: str, value: str, **data: Any) -> Profile:
    profile, _created = profile_upsert(
        data=profile_input_parse(namespace=namespace, value=value, data=data)
    )
    return profile


def test_resolve_normalises_the_value() -> None:
    profile = upsert("phone", "+14165550100")

    found = profile_resolve(namespace="phone", value="(416) 555-0100")

    assert found == profile


def test_resolve_with_a_namespace_object_reads_only_the_identity() -> None:
    profile = upsert("email", "ana@example.com")
    email = IdentityNamespace.objects.get(code="email")

    with CaptureQueriesContext(connection) as queries:
        found = profile_resolve(namespace=email, value="ANA@example.com")

    assert found == profile
    assert len(queries) == 1  # the identity joined with its profile


def test_resolve_an_identity_nobody_has_is_profile_not_found() -> None:
    upsert("phone", "+14165550100")

    with pytest.raises(ProfileNotFound) as error:
        profile_resolve(namespace="phone", value="(416) 555-0199")

    assert (error.value.code, error.value.status, error.value.errors) == ("not_found", 404, [])
    assert error.value.message == "No profile has the identity phone “+14165550199”."


def test_resolve_an_invalid_value_points_at_it() -> None:
    with pytest.raises(InvalidInput) as error:
        profile_resolve(namespace="phone", value="not a number", at="/recipients/2")

    assert (error.value.code, error.value.status) == ("validation_error", 422)
    assert error.value.message == "“not a number” is not a phone number."
    assert error.value.errors == [
        FieldError("/recipients/2/value", "“not a number” is not a phone number.")
    ]
    assert Profile.objects.count() == 0


def test_resolve_an_unknown_namespace_points_at_it() -> None:
    with pytest.raises(UnknownNamespace) as error:
        profile_resolve(namespace="fax", value="1")

    assert (error.value.code, error.value.status) == ("unknown_namespace", 422)
    assert error.value.errors == [FieldError("/namespace", "Unknown identity namespace “fax”.")]


def test_identity_namespace_get_finds_by_code_or_points_at_the_field() -> None:
    assert identity_namespace_get("crm_id").code == "crm_id"
    with pytest.raises(UnknownNamespace) as error:
        identity_namespace_get("fax", at="/audience/identityNamespace")

    assert error.value.message == "Unknown identity namespace “fax”."
    assert error.value.errors == [
        FieldError("/audience/identityNamespace", "Unknown identity namespace “fax”.")
    ]


def test_with_relations_reads_identities_push_and_consent_in_four_queries() -> None:
    profile = upsert(
        "email",
        "ana@example.com",
        identities=[{"namespace": "phone", "value": "+14165550100"}],
        consent={"email": "opted_in"},
    )
    PushRegistration.objects.create(profile=profile, app_id="app", platform="ios", token="t1")

    with CaptureQueriesContext(connection) as queries:
        loaded = profile_with_relations(profile)
        identities = sorted((i.namespace.code, i.value) for i in loaded.identities.all())
        tokens = [push.token for push in loaded.push_registrations.all()]
        consents = {c.channel: c.status for c in loaded.consents.all()}

    assert len(queries) == 4  # the profile, then identities with namespaces, push, consent
    assert identities == [("email", "ana@example.com"), ("phone", "+14165550100")]
    assert tokens == ["t1"]
    assert consents == {"email": "opted_in"}


# --- Identity namespaces, remembered per process --------------------------------------


def test_the_namespaces_are_read_once_then_remembered_until_forgotten() -> None:
    with CaptureQueriesContext(connection) as first:
        codes = set(identity_namespaces())
    with CaptureQueriesContext(connection) as again:
        identity_namespaces()
    identity_namespaces_forget()
    with CaptureQueriesContext(connection) as forgotten:
        identity_namespaces()

    assert {"email", "phone", "crm_id", "ecid"} <= codes
    assert (len(first), len(again), len(forgotten)) == (1, 0, 1)


def test_the_namespaces_are_read_again_after_a_few_seconds(monkeypatch) -> None:
    identity_namespaces()
    IdentityNamespace.objects.create(code="loyalty_id", name="Loyalty")
    assert "loyalty_id" not in identity_namespaces()  # another process's change: not yet
    later = time.monotonic() + NAMESPACES_MEMO_SECONDS
    monkeypatch.setattr("audiences.selectors.time.monotonic", lambda: later)

    assert "loyalty_id" in identity_namespaces()


def test_a_namespace_added_in_the_admin_is_usable_at_once(admin_client, api_client) -> None:
    # given the API has read the namespaces
    writer = api_client("profiles:write")
    assert writer.put("/api/v1/profiles/loyalty_id/L-1", {}, format="json").status_code == 404

    # when an administrator adds one
    response = admin_client.post(
        reverse("admin:audiences_identitynamespace_add"),
        {"code": "loyalty_id", "name": "Loyalty", "description": "", "value_kind": "text"},
    )

    # then this process's API knows it without waiting
    assert response.status_code == 302
    assert writer.put("/api/v1/profiles/loyalty_id/L-1", {}, format="json").status_code == 201
