"""profile_input_parse: an upsert body checked and normalised, every problem with a pointer."""

from __future__ import annotations

from typing import Any

import pytest

from audiences.models import Profile
from audiences.profile_input import profile_input_parse
from core.errors import FieldError, InvalidInput


@pytest.mark.django_db
def test_parse_reports_every_bad_field_with_a_pointer() -> None:
    with pytest.raises(InvalidInput) as error:
        profile_input_parse(
            namespace="email",
            value="not-an-email",
            data={
                "identities": [{"namespace": "nope", "value": "1"}, "x"],
                "attributes": [],
                "locale": "english",
                "timeZone": "America",
                "consent": {"fax": "opted_in", "sms": "yes"},
                "consentSource": "",
            },
        )

    assert error.value.errors == [
        FieldError(
            "/identity/value",
            "“not-an-email” is not a valid email address: An email address must have an @-sign.",
        ),
        FieldError("/identities/0/namespace", "Unknown identity namespace “nope”."),
        FieldError("/identities/1", "Each identity is an object {namespace, value}."),
        FieldError("/attributes", "Attributes must be an object."),
        FieldError("/locale", "“english” is not a locale such as en or fr-CA."),
        FieldError("/timeZone", "“America” is not an IANA time zone such as Europe/Paris."),
        FieldError("/consent/fax", "Consent channels are email, sms and push."),
        FieldError("/consent/sms", "Consent is opted_in, opted_out or unknown."),
        FieldError("/consentSource", "The consent source is a text of 1 to 120 characters."),
    ]
    assert error.value.message == "Some fields are not valid."
    assert error.value.code == "validation_error"
    assert Profile.objects.count() == 0


@pytest.mark.django_db
def test_parse_refuses_deep_or_nul_attributes_and_non_list_identities() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(500):  # deeper than a recursive walk could handle with two frames a level
        node["x"] = {}
        node = node["x"]

    with pytest.raises(InvalidInput) as error:
        profile_input_parse(
            namespace="email", value="ana@example.com", data={"attributes": deep, "identities": 5}
        )
    with pytest.raises(InvalidInput) as nul:
        profile_input_parse(
            namespace="email", value="ana@example.com", data={"attributes": {"a": ["x\x00"]}}
        )

    assert error.value.errors == [
        FieldError("/identities", "Identities are a list of {namespace, value}."),
        FieldError("/attributes", "Attributes nest deeper than 20 levels."),
    ]
    assert nul.value.errors == [
        FieldError("/attributes", "Attributes may not contain NUL characters.")
    ]
