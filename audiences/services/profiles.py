"""Writing profiles: upserting, merging and erasing them.

Identities are unique per (namespace, value). ``profile_upsert`` never creates
a second profile for an identity, also when two requests race: the loser's
insert hits the unique constraint, its savepoint is rolled back and it
retries, now finding the winner's profile (proved on PostgreSQL by
tests/audiences/test_profile_concurrency.py). Input is parsed by
``audiences.profile_input``; profiles are found by ``audiences.selectors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.erasure import erasure_hooks
from audiences.models import (
    AudienceMember,
    Consent,
    Identity,
    IdentityNamespace,
    Profile,
    PushRegistration,
)
from audiences.profile_input import ProfileInput
from audiences.selectors import ProfileRelations
from core.channels import Channel
from core.errors import ClarionError, FieldError, InvalidInput

UPSERT_ATTEMPTS = 3  # a lost race retries; a third loss means something else is wrong


@dataclass
class IdentityConflict(ClarionError):
    """The identities given belong to different profiles (merge them first)."""

    code: str = "identity_conflict"
    status: int = 409


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


def consents_set(
    *,
    profile: Profile,
    statuses: Mapping[str, str],
    source: str,
    now: datetime | None = None,
) -> None:
    """Record each channel's consent status, as of ``now``: one upsert statement for all.

    ``INSERT ... ON CONFLICT (profile, channel) DO UPDATE`` rather than
    ``update_or_create`` (a read, savepoints and a write per channel): also race-free.
    """
    if not statuses:
        return
    now = now or timezone.now()
    Consent.objects.bulk_create(
        [
            Consent(profile=profile, channel=channel, status=status, source=source, updated_at=now)
            for channel, status in statuses.items()
        ],
        update_conflicts=True,
        unique_fields=["profile", "channel"],
        update_fields=["status", "source", "updated_at"],
    )


def consent_set(*, profile: Profile, channel: str, status: str, source: str) -> None:
    consents_set(profile=profile, statuses={channel: status}, source=source)


@dataclass(frozen=True)
class ProfileUpserted:
    """An upserted profile, whether it is new, and its relations as the API shows them
    (None when not asked for)."""

    profile: Profile
    created: bool
    relations: ProfileRelations | None


def _relations_written(
    *,
    profile: Profile,
    created: bool,
    identities: list[tuple[str, str]],
    data: ProfileInput,
    now: datetime,
) -> ProfileRelations:
    """The relations of the profile just written, from what was written: a new profile has
    only those; an existing one's push registrations, and its consent on the channels
    this call did not set, are read (two small reads, not three prefetches)."""
    consents = {
        channel: (status, data.consent_source, now) for channel, status in data.consent.items()
    }
    if created:
        return ProfileRelations(identities=identities, push_registrations=[], consents=consents)
    push = list(
        PushRegistration.objects.filter(profile=profile).values_list(
            "app_id", "platform", "token", "last_seen_at"
        )
    )
    if set(consents) != set(Channel.values):
        for channel, status, source, updated_at in (
            Consent.objects.filter(profile=profile)
            .exclude(channel__in=list(consents))
            .values_list("channel", "status", "source", "updated_at")
        ):
            consents[channel] = (status, source, updated_at)
    return ProfileRelations(identities=identities, push_registrations=push, consents=consents)


def _upsert_once(data: ProfileInput, *, shown: bool) -> ProfileUpserted:
    keys = [data.identity, *data.extra_identities]
    # One query reads every identity of the profiles that own one of the keys, with their
    # profiles, which it locks (PostgreSQL): the response needs no read of them after.
    owning = Identity.objects.filter(
        namespace__in=[k.namespace for k in keys], value__in=[k.value for k in keys]
    ).values("profile_id")
    existing = list(
        Identity.objects.filter(profile__in=owning)
        .select_related("profile", "namespace")
        .select_for_update(of=("profile",))
    )
    owned = {(i.namespace_id, i.value): i.profile_id for i in existing}
    profiles = {i.profile_id: i.profile for i in existing}
    owners = {owned[(k.namespace.pk, k.value)] for k in keys if (k.namespace.pk, k.value) in owned}
    if len(owners) > 1:
        raise IdentityConflict(
            message=_("These identities belong to different profiles; merge the profiles first."),
            errors=[
                FieldError("/identities", _("Identities of %d different profiles.") % len(owners))
            ],
        )
    created = not owners
    profile = Profile() if created else profiles[owners.pop()]
    _apply(profile, data)
    profile.save()
    missing = [k for k in keys if (k.namespace.pk, k.value) not in owned]
    if missing:
        # Raises IntegrityError when a concurrent request inserted one first.
        Identity.objects.bulk_create(
            [Identity(profile=profile, namespace=k.namespace, value=k.value) for k in missing]
        )
    now = timezone.now()
    consents_set(profile=profile, statuses=data.consent, source=data.consent_source, now=now)
    if not shown:
        return ProfileUpserted(profile, created, None)
    identities = [(i.namespace.code, i.value) for i in existing if i.profile_id == profile.pk]
    identities += [(k.namespace.code, k.value) for k in missing]
    relations = _relations_written(
        profile=profile, created=created, identities=identities, data=data, now=now
    )
    return ProfileUpserted(profile, created, relations)


def _upsert(data: ProfileInput, *, shown: bool) -> ProfileUpserted:
    for attempt in range(UPSERT_ATTEMPTS):
        try:
            with transaction.atomic():
                return _upsert_once(data, shown=shown)
        except IntegrityError:
            if attempt == UPSERT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def profile_upsert(*, data: ProfileInput) -> tuple[Profile, bool]:
    """Create or update the profile named by ``data.identity``; returns (profile, created)."""
    upserted = _upsert(data, shown=False)
    return upserted.profile, upserted.created


def profile_upsert_shown(*, data: ProfileInput) -> ProfileUpserted:
    """``profile_upsert``, also returning the profile's relations as the API shows them,
    known from what was written (``PUT /profiles/...`` answers without reading them back)."""
    return _upsert(data, shown=True)


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

    Message records (delivery) keep their status and counts, but lose the link
    to the profile and every personal datum they copied (address, user id, the
    call's profile and context): delivery registers that in ``audiences.erasure``.
    """
    for hook in erasure_hooks():
        hook(profile.pk)
    profile.delete()
