"""Normalising identity values per namespace, so one person has one spelling.

Email addresses are validated and lower-cased (email-validator, no DNS look-up);
phone numbers become E.164 (phonenumbers, with ``CLARION_PHONE_DEFAULT_REGION``
for numbers written without a country code); other values are trimmed.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from audiences.models import IdentityNamespace

MAX_IDENTITY_LENGTH = 320  # RFC 3696 errata: the longest valid email address is 320 characters


class IdentityValueError(ValueError):
    """A value that is not valid in its namespace; the message says why, in words."""


def normalize_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise IdentityValueError(
            _("“%(value)s” is not a valid email address: %(why)s")
            % {"value": value, "why": str(error)}
        ) from None
    return result.normalized.lower()


def normalize_phone(value: str, *, region: str | None = None) -> str:
    region = region or settings.CLARION_PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException:
        raise IdentityValueError(_("“%s” is not a phone number.") % value) from None
    if not phonenumbers.is_valid_number(number):
        raise IdentityValueError(
            _("“%(value)s” is not a valid phone number (read with default region %(region)s).")
            % {"value": value, "region": region}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_text(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise IdentityValueError(_("The value is empty."))
    # Control characters are never part of an id, and PostgreSQL refuses NUL in text.
    if any(unicodedata.category(char) == "Cc" for char in cleaned):
        raise IdentityValueError(_("The value contains control characters."))
    return cleaned


def identity_normalize(namespace: IdentityNamespace, value: object) -> str:
    """The stored spelling of ``value`` in ``namespace``; raises IdentityValueError."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise IdentityValueError(_("An identity value must be a string."))
    text = str(value)
    if len(text) > MAX_IDENTITY_LENGTH:
        raise IdentityValueError(_("The value is longer than %d characters.") % MAX_IDENTITY_LENGTH)
    kind = namespace.value_kind
    if kind == IdentityNamespace.ValueKind.EMAIL:
        return normalize_email(text)
    if kind == IdentityNamespace.ValueKind.PHONE:
        return normalize_phone(text)
    return normalize_text(text)
