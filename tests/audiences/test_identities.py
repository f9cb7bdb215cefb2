"""Identity normalisation per namespace kind: the stored spelling, or the error in words."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email
from pytest_django.fixtures import Settings as SettingsWrapper

from audiences.identities import (
    IdentityValueError,
    _normalize_email_fast,
    identity_normalize,
    normalize_email,
)
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


def _email_reference(value: str) -> str:
    """The normalisation before the fast path: email-validator for every address."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise IdentityValueError(f"“{value}” is not a valid email address: {error}") from None
    return result.normalized.lower()


def _email_generated(rng: random.Random) -> str:
    """An address near the fast path's edges: case, dots, hyphens, lengths, a stray character."""

    def word(chars: str) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.choice([1, 1, 2, 5, 20, 61, 62, 63])))

    local = ".".join(word("aZ9bY_%+-") for _ in range(rng.choice([1, 1, 2, 3])))
    labels = [word("aZ9bcY-") for _ in range(rng.choice([0, 1, 1, 2, 4]))]
    top = rng.choice(["com", "CO", "c0m", "x1", "9", "-com", "com-", "xn--p1ai", "local", "test"])
    address = local + "@" + ".".join([*labels, top])
    for _ in range(rng.choice([0, 0, 0, 1, 2])):  # a stray character somewhere
        at = rng.randrange(len(address) + 1)
        address = address[:at] + rng.choice(".-@ \"'!#~éüА_") + address[at:]
    return rng.choice(["", "", " ", "\t"]) + address + rng.choice(["", "", " \n"])


def test_email_fast_path_agrees_with_email_validator() -> None:
    rng = random.Random(20261128)
    samples = [_email_generated(rng) for _ in range(10_000)]
    samples += [
        "Ana.Lee+news@Example.COM",
        "a@b.co",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@ex--ample.com",
        "a@example.com.",
        "a@example.123",
        "a@sub.localhost",
        "a@x.arpa",
        "a@" + "b" * 63 + ".com",
        "a@" + "b" * 64 + ".com",
        "a" * 250 + "@b.co",
        "a" * 249 + "@b.co",
    ]
    fast = 0
    for raw in samples:
        try:
            expected: str | Exception = _email_reference(raw)
        except IdentityValueError as error:
            expected = error
        if not isinstance(expected, Exception):
            fast += _normalize_email_fast(raw.strip()) is not None
        try:
            got: str | Exception = normalize_email(raw)
        except IdentityValueError as error:
            got = error

        if isinstance(expected, Exception):
            assert isinstance(got, IdentityValueError), raw
            assert str(got) == str(expected), raw
        else:
            assert got == expected, raw
    assert fast > 250  # the generator does reach the fast path
