"""Normalising identity values per namespace, so one person has one spelling.

Email addresses are validated and lower-cased (email-validator, no DNS look-up);
phone numbers become E.164 (phonenumbers, with ``CLARION_PHONE_DEFAULT_REGION``
for numbers written without a country code); other values are trimmed.
"""

from __future__ import annotations

import re
import unicodedata

import email_validator
import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from audiences.models import IdentityNamespace

MAX_IDENTITY_LENGTH = 320  # RFC 3696 errata: the longest valid email address is 320 characters

# The common shape of an address, which email-validator accepts and normalises to the
# lower-cased input (ASCII: no IDNA, no Unicode normalisation): a dot-atom local part of
# letters, digits and ``._%+-``; host labels of letters, digits and single hyphens, none
# longer than 63 characters; a top-level domain ending in a letter. ``--`` (Punycode and
# the rule about it) and every other shape go through email-validator, about 15 times
# slower. tests/audiences/test_identities.py checks that both agree on generated addresses.
_EMAIL_ATOM = r"[A-Za-z0-9_%+-]+"
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_TOP_LABEL = r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
_EMAIL_FAST = re.compile(
    rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*@(?:{_EMAIL_LABEL}\.)+{_EMAIL_TOP_LABEL}"
)
_EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit, as email-validator applies it
_EMAIL_DOMAIN_MAX_LENGTH = 253  # RFC 1035, as email-validator applies it


class IdentityValueError(ValueError):
    """A value that is not valid in its namespace; the message says why, in words."""


def _normalize_email_fast(address: str) -> str | None:
    """``address`` lower-cased when it has the common shape that email-validator accepts as is.

    None means "not sure": the caller runs the full validation.
    """
    if len(address) > _EMAIL_MAX_LENGTH or "--" in address or not _EMAIL_FAST.fullmatch(address):
        return None
    normalized = address.lower()
    domain = normalized.rpartition("@")[2]
    if len(domain) > _EMAIL_DOMAIN_MAX_LENGTH:
        return None
    # Read at call time, as email-validator does (the list is a module setting).
    for reserved in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if domain == reserved or domain.endswith("." + reserved):
            return None
    return normalized


def normalize_email(value: str) -> str:
    address = value.strip()
    fast = _normalize_email_fast(address)
    if fast is not None:
        return fast
    try:
        result = validate_email(address, check_deliverability=False)
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
