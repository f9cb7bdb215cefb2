"""Identity normalisation per namespace kind: the stored spelling, or the error in words."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import IdentityNamespace

EMAIL = IdentityNamespace(code="email", value_kind=IdentityNamespace.ValueKind.EMAIL)
PHONE = IdentityNamespace(code="phone", value_kind=IdentityNamespace.ValueKind.PHONE)
TEXT = IdentityNamespace(code="crm_id", value_kind=IdentityNamespace.ValueKind.TEXT)


@pytest.fixture(autouse=True)
def _us_region(settings: SettingsWrapper) -> None:
    settings.CLARION_PHONE_DEFAULT_REGION = "US"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("ana@example.com", "ana@example.com"),
        ("Ana@Example.COM", "ana@example.com"),
        ("  ana@example.com \n", "ana@example.com"),
        ("ana@bücher.de", "ana@bücher.de"),
        ("ANA@BÜCHER.DE", "ana@bücher.de"),
        ("ana+news@example.co.uk", "ana+news@example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, stored: str) -> None:
    assert identity_normalize(EMAIL, raw) == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "not-an-email",
            "“not-an-email” is not a valid email address: An email address must have an @-sign.",
        ),
        (
            "ana@",
            "“ana@” is not a valid email address: There must be something after the @-sign.",
        ),
        (
            "a b@example.com",
            "“a b@example.com” is not a valid email address: The email address contains "
            "invalid characters before the @-sign: SPACE.",
        ),
        (
            "ana@localhost",
            "“ana@localhost” is not a valid email address: The part after the @-sign is not "
            "valid. It should have a period.",
        ),
        ("", "“” is not a valid email address: An email address must have an @-sign."),
    ],
)
def test_invalid_email_says_why(raw: str, message: str) -> None:
    with pytest.raises(IdentityValueError) as error:
        identity_normalize(EMAIL, raw)

    assert str(error.value) == message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("(416) 555-0100", "+14165550100"),
        ("416-555-0100", "+14165550100"),
        ("+1 416 555 0100", "+14165550100"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_becomes_e164(raw: str, stored: str) -> None:
    assert identity_normalize(PHONE, raw) == stored


def test_national_phone_is_read_with_the_configured_region(settings: SettingsWrapper) -> None:
    settings.CLARION_PHONE_DEFAULT_REGION = "FR"

    assert identity_normalize(PHONE, "01 42 68 53 00") == "+33142685300"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "“abc” is not a phone number."),
        ("", "“” is not a phone number."),
        ("12", "“12” is not a valid phone number (read with default region US)."),
        ("+1 416 555", "“+1 416 555” is not a valid phone number (read with default region US)."),
        ("555-0100", "“555-0100” is not a valid phone number (read with default region US)."),
    ],
)
def test_invalid_phone_says_why(raw: str, message: str) -> None:
    with pytest.raises(IdentityValueError) as error:
        identity_normalize(PHONE, raw)

    assert str(error.value) == message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("  CRM-0042 ", "CRM-0042"), ("Mixed Case", "Mixed Case"), (42, "42")],
)
def test_text_is_trimmed_only(raw: object, stored: str) -> None:
    assert identity_normalize(TEXT, raw) == stored


@pytest.mark.parametrize(
    ("namespace", "raw", "message"),
    [
        (TEXT, "   ", "The value is empty."),
        (TEXT, "", "The value is empty."),
        (TEXT, "a\x00b", "The value contains control characters."),
        (TEXT, None, "An identity value must be a string."),
        (TEXT, True, "An identity value must be a string."),
        (EMAIL, ["ana@example.com"], "An identity value must be a string."),
        (TEXT, "x" * 321, "The value is longer than 320 characters."),
    ],
)
def test_invalid_text_says_why(namespace: IdentityNamespace, raw: object, message: str) -> None:
    with pytest.raises(IdentityValueError) as error:
        identity_normalize(namespace, raw)

    assert str(error.value) == message
