"""Upserting many profiles at once: a few queries per batch instead of a few per profile.

Used by the file import (``audiences.importing``) and ``POST /profiles:batch``.
The result is the same as calling ``profile_upsert`` for each input in order:
rows that could interfere with each other (an identity repeated within the
batch, identities of two different profiles) and whole batches that lose a
race with a concurrent writer (IntegrityError on the identity constraint) are
replayed one by one through ``profile_upsert``, which retries such races.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audiences.models import Consent, Identity, Profile
from audiences.profile_input import IdentityKey, ProfileInput
from audiences.services.profiles import _apply, profile_upsert
from core.errors import ClarionError

# Profile fields an upsert may change; a profile whose values are all unchanged is not written.
UPSERT_FIELDS = ("attributes", "locale", "time_zone", "email_address", "mobile_number")

IdentityTuple = tuple[int, str]  # (namespace id, normalised value)


@dataclass(frozen=True)
class UpsertOutcome:
    """What happened to one input: the profile it names and whether it was new, or the error."""

    profile_id: uuid.UUID | None = None
    created: bool = False
    error: ClarionError | None = None


def _keys(data: ProfileInput) -> list[IdentityKey]:
    return [data.identity, *data.extra_identities]


def _as_tuple(key: IdentityKey) -> IdentityTuple:
    return (key.namespace.pk, key.value)


def _owners_find(inputs: Sequence[ProfileInput]) -> dict[IdentityTuple, uuid.UUID]:
    """One query: every identity of the batch that already exists -> its profile id."""
    values: dict[int, set[str]] = defaultdict(set)
    for data in inputs:
        for key in _keys(data):
            values[key.namespace.pk].add(key.value)
    if not values:
        return {}
    condition = reduce(
        or_, (Q(namespace_id=ns, value__in=sorted(vals)) for ns, vals in values.items())
    )
    rows = Identity.objects.filter(condition).values_list("namespace_id", "value", "profile_id")
    return {(ns, value): profile_id for ns, value, profile_id in rows}


def _snapshot(profile: Profile) -> tuple[object, ...]:
    return tuple(getattr(profile, name) for name in UPSERT_FIELDS)


def _upsert_bulk(
    items: Sequence[tuple[int, ProfileInput]], owned: dict[IdentityTuple, uuid.UUID]
) -> dict[int, UpsertOutcome] | None:
    """Write ``items`` (no identity shared between them) with bulk statements.

    Returns None when a profile found by its identity has gone meanwhile
    (erased concurrently): the caller then replays the rows one by one.
    """
    now = timezone.now()
    owner_of = {
        index: next(
            (owned[_as_tuple(k)] for k in _keys(data) if _as_tuple(k) in owned),
            None,
        )
        for index, data in items
    }
    existing_ids = sorted({owner for owner in owner_of.values() if owner is not None})
    # Locks the rows on PostgreSQL so a concurrent upsert cannot lose our attribute merge.
    existing = {
        profile.pk: profile
        for profile in Profile.objects.select_for_update()
        .filter(pk__in=existing_ids)
        .order_by("pk")
    }
    if len(existing) != len(existing_ids):
        return None

    outcomes: dict[int, UpsertOutcome] = {}
    new_profiles: list[Profile] = []
    changed: list[Profile] = []
    new_identities: list[Identity] = []
    consents: list[Consent] = []
    for index, data in items:
        owner = owner_of[index]
        if owner is None:
            profile = Profile()
            _apply(profile, data)
            new_profiles.append(profile)
        else:
            profile = existing[owner]
            before = _snapshot(profile)
            _apply(profile, data)
            if _snapshot(profile) != before:
                profile.updated_at = now  # bulk_update does not apply auto_now
                changed.append(profile)
        outcomes[index] = UpsertOutcome(profile_id=profile.pk, created=owner is None)
        new_identities.extend(
            Identity(profile_id=profile.pk, namespace=key.namespace, value=key.value)
            for key in _keys(data)
            if _as_tuple(key) not in owned
        )
        consents.extend(
            Consent(
                profile_id=profile.pk,
                channel=channel,
                status=status,
                source=data.consent_source,
                updated_at=now,
            )
            for channel, status in data.consent.items()
        )

    Profile.objects.bulk_create(new_profiles)
    if changed:
        Profile.objects.bulk_update(changed, [*UPSERT_FIELDS, "updated_at"])
    # Raises IntegrityError when a concurrent writer inserted one of these first.
    Identity.objects.bulk_create(new_identities)
    if consents:
        Consent.objects.bulk_create(
            consents,
            update_conflicts=True,
            unique_fields=["profile", "channel"],
            update_fields=["status", "source", "updated_at"],
        )
    return outcomes


def _upsert_one(data: ProfileInput) -> UpsertOutcome:
    try:
        profile, created = profile_upsert(data=data)
    except ClarionError as error:  # IdentityConflict: the identities name two profiles
        return UpsertOutcome(error=error)
    return UpsertOutcome(profile_id=profile.pk, created=created)


def profile_upsert_many(*, inputs: Sequence[ProfileInput]) -> list[UpsertOutcome]:
    """Upsert every input, in order; one outcome per input.

    A few queries for the whole batch: one to find the existing identities,
    one to lock and load their profiles, then bulk inserts of new profiles and
    identities, one bulk update of the profiles that changed and one consent
    upsert. Inputs that share an identity with an earlier input of the batch,
    or whose identities belong to several profiles, go through
    ``profile_upsert`` one by one after the bulk part.
    """
    owned = _owners_find(inputs)
    seen: set[IdentityTuple] = set()
    bulk: list[tuple[int, ProfileInput]] = []
    one_by_one: list[int] = []
    for index, data in enumerate(inputs):
        keys = [_as_tuple(k) for k in _keys(data)]
        owners = {owned[k] for k in keys if k in owned}
        if len(owners) > 1 or any(k in seen for k in keys):
            one_by_one.append(index)
        else:
            bulk.append((index, data))
        seen.update(keys)

    outcomes: dict[int, UpsertOutcome] = {}
    if bulk:
        try:
            with transaction.atomic():
                done = _upsert_bulk(bulk, owned)
                if done is None:
                    raise IntegrityError("a profile was erased during the import")
        except IntegrityError:
            # Lost a race with a concurrent writer: replay these rows one by one.
            one_by_one.extend(index for index, _ in bulk)
            one_by_one.sort()
        else:
            outcomes.update(done)
    for index in one_by_one:
        outcomes[index] = _upsert_one(inputs[index])
    return [outcomes[index] for index in range(len(inputs))]
