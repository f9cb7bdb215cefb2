"""Upserting, resolving, merging and erasing profiles.

Identities are unique per (namespace, value). ``profile_upsert`` never creates
a second profile for an identity, also when two requests race: the loser's
insert hits the unique constraint, its savepoint is rolled back and it
retries, now finding the winner's profile (proved on PostgreSQL by
tests/audiences/test_profile_concurrency.py).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import (
    AudienceMember,
    Consent,
    Identity,
    IdentityNamespace,
    Profile,
    PushRegistration,
)
from core.errors import (
    ClarionError,
    FieldError,
    InvalidInput,
    escape_pointer_token,
    invalid_input,
)
from core.locales import locale_normalize, locale_validator

UPSERT_ATTEMPTS = 3  # a lost race retries; a third loss means something else is wrong
MAX_ATTRIBUTES_DEPTH = 20
CONSENT_SOURCE_MAX_LENGTH = 120  # Consent.source


@dataclass
class IdentityConflict(ClarionError):
    """The identities given belong to different profiles (merge them first)."""

    code: str = "identity_conflict"
    status: int = 409


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


class _LostRace(Exception):
    """A concurrent writer changed what ``_upsert_once`` read; the attempt is retried."""


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into ``base``: nested objects merge, ``null`` removes a key.

    Lists (and any other value) replace what was there. A ``null`` inside a new
    nested object is dropped too, so no ``null`` is ever stored.
    """
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            current = merged.get(key)
            merged[key] = deep_merge(current if isinstance(current, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged


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


def namespace_get(code: str) -> IdentityNamespace:
    namespace = IdentityNamespace.objects.filter(code=code).first()
    if namespace is None:
        raise InvalidInput(
            code="unknown_namespace",
            message=_("Unknown identity namespace “%s”.") % code,
            errors=[FieldError("/namespace", _("Unknown identity namespace “%s”.") % code)],
        )
    return namespace


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


def profile_resolve(*, namespace: str | IdentityNamespace, value: str) -> Profile | None:
    """The profile known by (namespace, value), or None. The value is normalised first."""
    ns = namespace if isinstance(namespace, IdentityNamespace) else namespace_get(namespace)
    try:
        normalized = identity_normalize(ns, value)
    except IdentityValueError:
        return None
    identity = (
        Identity.objects.select_related("profile").filter(namespace=ns, value=normalized).first()
    )
    return identity.profile if identity is not None else None


def _apply(profile: Profile, data: ProfileInput) -> None:
    if data.attributes is not None:
        profile.attributes = deep_merge(profile.attributes or {}, data.attributes)
    if data.locale is not None:
        profile.locale = data.locale
    if data.time_zone is not None:
        profile.time_zone = data.time_zone
    for key in [data.identity, *data.extra_identities]:
        kind = key.namespace.value_kind
        if kind == IdentityNamespace.ValueKind.EMAIL and not profile.email_address:
            profile.email_address = key.value
        elif kind == IdentityNamespace.ValueKind.PHONE and not profile.mobile_number:
            profile.mobile_number = key.value


def consent_set(*, profile: Profile, channel: str, status: str, source: str) -> None:
    Consent.objects.update_or_create(
        profile=profile,
        channel=channel,
        defaults={"status": status, "source": source, "updated_at": timezone.now()},
    )


def _upsert_once(data: ProfileInput) -> tuple[Profile, bool]:
    keys = [data.identity, *data.extra_identities]
    existing = list(
        Identity.objects.filter(
            namespace__in=[k.namespace for k in keys], value__in=[k.value for k in keys]
        ).select_related("namespace")
    )
    owned = {(i.namespace_id, i.value): i.profile_id for i in existing}
    owners = {owned[(k.namespace.pk, k.value)] for k in keys if (k.namespace.pk, k.value) in owned}
    if len(owners) > 1:
        raise IdentityConflict(
            message=_("These identities belong to different profiles; merge the profiles first."),
            errors=[
                FieldError("/identities", _("Identities of %d different profiles.") % len(owners))
            ],
        )
    created = not owners
    if created:
        profile = Profile()
        _apply(profile, data)
        profile.save()
    else:
        found = Profile.objects.select_for_update().filter(pk=owners.pop()).first()
        if found is None:  # erased since its identities were read
            raise _LostRace
        profile = found
        _apply(profile, data)
        profile.save()
    missing = [k for k in keys if (k.namespace.pk, k.value) not in owned]
    if missing:
        # Raises IntegrityError when a concurrent request inserted one first.
        Identity.objects.bulk_create(
            [Identity(profile=profile, namespace=k.namespace, value=k.value) for k in missing]
        )
    for channel, status in data.consent.items():
        consent_set(profile=profile, channel=channel, status=status, source=data.consent_source)
    return profile, created


def profile_upsert(*, data: ProfileInput) -> tuple[Profile, bool]:
    """Create or update the profile named by ``data.identity``; returns (profile, created)."""
    for attempt in range(UPSERT_ATTEMPTS):
        try:
            with transaction.atomic():
                return _upsert_once(data)
        except (IntegrityError, _LostRace):
            if attempt == UPSERT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def profile_merge(*, keep: Profile, absorb: Profile) -> Profile:
    """Two profiles found to be one person: ``absorb`` moves into ``keep`` and is deleted.

    Attributes merge with ``keep`` winning; identities, push registrations and
    audience memberships move; consent keeps the most recent choice per channel.
    """
    if keep.pk == absorb.pk:
        raise InvalidInput(message=_("A profile cannot be merged into itself."))
    keep = Profile.objects.select_for_update().get(pk=keep.pk)
    absorb = Profile.objects.select_for_update().get(pk=absorb.pk)
    keep.attributes = deep_merge(absorb.attributes or {}, keep.attributes or {})
    keep.locale = keep.locale or absorb.locale
    keep.time_zone = keep.time_zone or absorb.time_zone
    keep.email_address = keep.email_address or absorb.email_address
    keep.mobile_number = keep.mobile_number or absorb.mobile_number
    keep.save()
    Identity.objects.filter(profile=absorb).update(profile=keep)
    PushRegistration.objects.filter(profile=absorb).update(profile=keep)
    kept_audiences = AudienceMember.objects.filter(profile=keep).values_list(
        "audience_id", flat=True
    )
    AudienceMember.objects.filter(profile=absorb).exclude(
        audience_id__in=list(kept_audiences)
    ).update(profile=keep)
    for theirs in Consent.objects.filter(profile=absorb):
        mine = Consent.objects.filter(profile=keep, channel=theirs.channel).first()
        if mine is None or mine.updated_at < theirs.updated_at:
            # Keep the choice's own time, not the merge's: it is when the person decided.
            Consent.objects.update_or_create(
                profile=keep,
                channel=theirs.channel,
                defaults={
                    "status": theirs.status,
                    "source": theirs.source,
                    "updated_at": theirs.updated_at,
                },
            )
    absorb.delete()
    return keep


@transaction.atomic
def profile_delete(*, profile: Profile) -> None:
    """Erase a person: attributes, identities, addresses, consent and memberships go.

    Message records (delivery) keep their counts but lose the link to the
    profile: their foreign key is SET_NULL and they hold no address copy.
    """
    profile.delete()


def profiles_by_identity(
    *, namespace: IdentityNamespace, values: Sequence[str]
) -> dict[str, Profile]:
    """One query: normalised value -> profile, for the values that exist."""
    rows = Identity.objects.filter(namespace=namespace, value__in=list(values)).select_related(
        "profile"
    )
    return {row.value: row.profile for row in rows}


def identities_of(profile: Profile) -> Iterable[Identity]:
    return profile.identities.select_related("namespace").all()
