"""Upserting, resolving, merging and erasing profiles.

Identities are unique per (namespace, value). ``profile_upsert`` never creates
a second profile for an identity, also when two requests race: the loser's
insert hits the unique constraint, its savepoint is rolled back and it
retries, now finding the winner's profile (proved on PostgreSQL by
tests/audiences/test_profile_concurrency.py).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from config.errors import ClarionError, FieldError, InvalidInput
from config.locales import locale_normalize, locale_validator

UPSERT_ATTEMPTS = 3  # a lost race retries; a third loss means something else is wrong
MAX_ATTRIBUTES_DEPTH = 20


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


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into ``base``: nested objects merge, ``null`` removes a key."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, Mapping):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


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
    *, namespace: str, value: str, data: Mapping[str, Any], prefix: str = ""
) -> ProfileInput:
    """Check and normalise an upsert body; every problem is reported with a JSON pointer.

    ``data`` is ``{"attributes", "locale", "timeZone", "identities", "consent"}``,
    every field optional.
    """
    errors: list[FieldError] = []
    namespaces = {ns.code: ns for ns in IdentityNamespace.objects.all()}

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

    primary = key(namespace, value, prefix + "/identity")
    extra: list[IdentityKey] = []
    for index, item in enumerate(data.get("identities") or []):
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
    elif attributes is not None and _depth(attributes) > MAX_ATTRIBUTES_DEPTH:
        errors.append(
            FieldError(
                prefix + "/attributes",
                _("Attributes nest deeper than %d levels.") % MAX_ATTRIBUTES_DEPTH,
            )
        )

    locale = data.get("locale")
    if locale is not None:
        locale = locale_normalize(str(locale))
        try:
            locale_validator(locale)
        except Exception:
            errors.append(
                FieldError(
                    prefix + "/locale", _("“%s” is not a locale such as en or fr-CA.") % locale
                )
            )

    time_zone = data.get("timeZone")
    if time_zone is not None:
        try:
            zoneinfo.ZoneInfo(str(time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
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
        at = f"{prefix}/consent/{channel}"
        if channel not in ("email", "sms", "push"):
            errors.append(FieldError(at, _("Consent channels are email, sms and push.")))
        elif status not in Consent.Status.values:
            errors.append(FieldError(at, _("Consent is opted_in, opted_out or unknown.")))
        else:
            consent[channel] = status

    if errors or primary is None:
        raise InvalidInput(
            message=errors[0].detail if len(errors) == 1 else _("Some fields are not valid."),
            errors=errors,
        )
    return ProfileInput(
        identity=primary,
        extra_identities=extra,
        attributes=dict(attributes) if attributes is not None else None,
        locale=locale,
        time_zone=time_zone,
        consent=consent,
        consent_source=str(data.get("consentSource") or "api"),
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
        profile = Profile.objects.select_for_update().get(pk=owners.pop())
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
        except IntegrityError:
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
            consent_set(
                profile=keep, channel=theirs.channel, status=theirs.status, source=theirs.source
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
