"""Turning an upsert body (API, batch item or import row) into a ``ProfileInput``.

Parsing only reads: identities are normalised per namespace and every problem is
reported with a JSON pointer, all at once. ``audiences.services.profiles`` writes
the result.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import Consent, IdentityNamespace
from core.errors import FieldError, escape_pointer_token, invalid_input
from core.locales import locale_normalize, locale_validator

MAX_ATTRIBUTES_DEPTH = 20
CONSENT_SOURCE_MAX_LENGTH = 120  # Consent.source


@dataclass(frozen=True)
class IdentityKey:
    namespace: IdentityNamespace
    value: str


@dataclass
class ProfileInput:
    """A parsed upsert: the identity it is addressed by plus optional fields."""

    identity: IdentityKey
    extra_identities: list[IdentityKey] = field(default_factory=list)
    attributes: dict[str, Any] | None = None
    locale: str | None = None
    time_zone: str | None = None
    consent: dict[str, str] = field(default_factory=dict)
    consent_source: str = "api"


def _attributes_problem(attributes: Mapping[str, Any]) -> str | None:
    """Why ``attributes`` cannot be stored, or None.

    Walks iteratively: a recursive walk overflows the stack on deep nesting that
    the JSON parser still accepts. PostgreSQL's jsonb refuses NUL characters.
    """
    stack: list[tuple[Any, int]] = [(attributes, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping | list) and depth > MAX_ATTRIBUTES_DEPTH:
            return _("Attributes nest deeper than %d levels.") % MAX_ATTRIBUTES_DEPTH
        if isinstance(value, Mapping):
            for key, item in value.items():
                if "\x00" in str(key):
                    return _("Attributes may not contain NUL characters.")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            return _("Attributes may not contain NUL characters.")
    return None


@functools.cache
def _time_zones() -> frozenset[str]:
    # ZoneInfo() itself raises OSError subclasses for keys such as "America" or very long
    # ones; checking against the list of IANA keys avoids touching the filesystem.
    return frozenset(zoneinfo.available_timezones())


def profile_input_parse(
    *,
    namespace: str,
    value: str,
    data: Mapping[str, Any],
    prefix: str = "",
    namespaces: Mapping[str, IdentityNamespace] | None = None,
    identity_at: str | None = None,
) -> ProfileInput:
    """Check and normalise an upsert body; every problem is reported with a JSON pointer.

    ``data`` is ``{"attributes", "locale", "timeZone", "identities", "consent"}``,
    every field optional. Callers parsing many bodies (imports, batches) pass
    ``namespaces`` (code -> namespace) to save a query per body. Pointers start
    with ``prefix``; a bad (namespace, value) is reported at ``identity_at``
    (default ``<prefix>/identity``).
    """
    errors: list[FieldError] = []
    if namespaces is None:
        namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}
    if identity_at is None:
        identity_at = prefix + "/identity"
    if not isinstance(data, Mapping):
        errors.append(FieldError(prefix, _("A profile is a JSON object.")))
        data = {}

    def key(code: Any, raw: Any, at: str) -> IdentityKey | None:
        ns = namespaces.get(code) if isinstance(code, str) else None
        if ns is None:
            errors.append(
                FieldError(at + "/namespace", _("Unknown identity namespace “%s”.") % code)
            )
            return None
        try:
            return IdentityKey(ns, identity_normalize(ns, raw))
        except IdentityValueError as error:
            errors.append(FieldError(at + "/value", str(error)))
            return None

    primary = key(namespace, value, identity_at)
    extra: list[IdentityKey] = []
    raw_identities = data.get("identities") or []
    if not isinstance(raw_identities, list):
        errors.append(
            FieldError(prefix + "/identities", _("Identities are a list of {namespace, value}."))
        )
        raw_identities = []
    for index, item in enumerate(raw_identities):
        at = f"{prefix}/identities/{index}"
        if not isinstance(item, Mapping):
            errors.append(FieldError(at, _("Each identity is an object {namespace, value}.")))
            continue
        found = key(item.get("namespace"), item.get("value"), at)
        if found is not None and found != primary and found not in extra:
            extra.append(found)

    attributes = data.get("attributes")
    if attributes is not None and not isinstance(attributes, Mapping):
        errors.append(FieldError(prefix + "/attributes", _("Attributes must be an object.")))
        attributes = None
    elif attributes is not None and (problem := _attributes_problem(attributes)) is not None:
        errors.append(FieldError(prefix + "/attributes", problem))

    locale = data.get("locale")
    if locale is not None:
        locale = locale_normalize(str(locale))
        try:
            locale_validator(locale)
        except ValidationError:
            errors.append(
                FieldError(
                    prefix + "/locale", _("“%s” is not a locale such as en or fr-CA.") % locale
                )
            )

    time_zone = data.get("timeZone")
    if time_zone is not None and (not isinstance(time_zone, str) or time_zone not in _time_zones()):
        errors.append(
            FieldError(
                prefix + "/timeZone",
                _("“%s” is not an IANA time zone such as Europe/Paris.") % time_zone,
            )
        )

    consent: dict[str, str] = {}
    raw_consent = data.get("consent") or {}
    if not isinstance(raw_consent, Mapping):
        errors.append(
            FieldError(prefix + "/consent", _("Consent is an object of channel: status."))
        )
        raw_consent = {}
    for channel, status in raw_consent.items():
        at = f"{prefix}/consent/{escape_pointer_token(str(channel))}"
        if channel not in ("email", "sms", "push"):
            errors.append(FieldError(at, _("Consent channels are email, sms and push.")))
        elif status not in Consent.Status.values:
            errors.append(FieldError(at, _("Consent is opted_in, opted_out or unknown.")))
        else:
            consent[channel] = status

    consent_source = data.get("consentSource", "api")
    if (
        not isinstance(consent_source, str)
        or not consent_source.strip()
        or len(consent_source) > CONSENT_SOURCE_MAX_LENGTH
        or "\x00" in consent_source
    ):
        errors.append(
            FieldError(
                prefix + "/consentSource",
                _("The consent source is a text of 1 to %d characters.")
                % CONSENT_SOURCE_MAX_LENGTH,
            )
        )

    if errors or primary is None:
        raise invalid_input(errors)
    return ProfileInput(
        identity=primary,
        extra_identities=extra,
        attributes=dict(attributes) if attributes is not None else None,
        locale=locale,
        time_zone=time_zone,
        consent=consent,
        consent_source=str(consent_source).strip(),
    )
