"""Reading audiences and profiles.

Audiences: who is in one, how many, a sample, and streaming them in batches.
Profiles: the one resolver from an identity (namespace, value) to a profile, and
a profile with the relations the API shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, identity_normalize
from audiences.models import Audience, Identity, IdentityNamespace, Profile
from audiences.rules import rules_to_q
from core.errors import ClarionError, FieldError, InvalidInput, invalid_input

AUDIENCE_SAMPLE_SIZE = 10
AUDIENCE_BATCH_SIZE = 1000  # one batch of profiles is a few MB at most


def audience_profiles(audience: Audience) -> QuerySet[Profile]:
    """The profiles in ``audience``, as one query (members, or the rules' translation)."""
    if audience.kind == Audience.Kind.STATIC:
        return Profile.objects.filter(memberships__audience_id=audience.pk)
    return Profile.objects.filter(rules_to_q(audience.rules))


def audience_estimate(audience: Audience) -> int:
    """The number of profiles in ``audience`` now (an exact COUNT; it changes as profiles do)."""
    return audience_profiles(audience).count()


def audience_is_empty(audience: Audience) -> bool:
    """Whether no profile is in ``audience`` now: stops at the first match (``EXISTS``).

    For yes/no questions, such as the review, which runs under the campaign's row lock
    on activation: a COUNT would read every matching profile while the lock is held.
    """
    return not audience_profiles(audience).exists()


def audience_sample(audience: Audience, n: int = AUDIENCE_SAMPLE_SIZE) -> list[Profile]:
    """Up to ``n`` profiles of ``audience``, the most recently created first."""
    return list(audience_profiles(audience).order_by("-created_at", "pk")[:n])


def audience_iter_batches(
    audience: Audience, batch_size: int = AUDIENCE_BATCH_SIZE, *, after: UUID | None = None
) -> Iterator[list[Profile]]:
    """Stream the profiles of ``audience`` in lists of at most ``batch_size``, by primary key.

    Keyset pagination (``pk > last ORDER BY pk LIMIT n``, never OFFSET): each
    batch is one short query, memory stays bounded by one batch, and every
    profile in the audience for the whole iteration is visited exactly once,
    also when profiles are added or removed between batches (those may or may
    not be visited, depending on where their key falls). Audience executions
    call this; ``after`` resumes past the last profile an interrupted run handled.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    profiles = audience_profiles(audience).order_by("pk")
    batch = list((profiles.filter(pk__gt=after) if after is not None else profiles)[:batch_size])
    while batch:
        yield batch
        if len(batch) < batch_size:
            return
        batch = list(profiles.filter(pk__gt=batch[-1].pk)[:batch_size])


@dataclass
class UnknownNamespace(InvalidInput):
    """No identity namespace has this code (422 in a body; the API makes it 404 in a path)."""

    code: str = "unknown_namespace"


@dataclass
class ProfileNotFound(ClarionError):
    """No profile has the identity asked for (404)."""

    code: str = "not_found"
    status: int = 404


# Every profile call needs the namespaces, and they change rarely (an administrator adds
# one): each process keeps them this long, as campaigns.triggering keeps version labels.
# The admin forgets them at once in its own process; the others see a change within
# these seconds (a new namespace is a 404 there until then).
NAMESPACES_MEMO_SECONDS = 5.0
_namespaces_memo: tuple[float, Mapping[str, IdentityNamespace]] | None = None


def identity_namespaces() -> Mapping[str, IdentityNamespace]:
    """Every identity namespace by code, read at most every ``NAMESPACES_MEMO_SECONDS``
    per process (one query for a caller that needs several, none most of the time)."""
    global _namespaces_memo
    now = time.monotonic()
    memo = _namespaces_memo
    if memo is not None and now - memo[0] < NAMESPACES_MEMO_SECONDS:
        return memo[1]
    found = MappingProxyType({ns.code: ns for ns in IdentityNamespace.objects.all()})
    _namespaces_memo = (now, found)
    return found


def identity_namespaces_forget() -> None:
    """A namespace was added, changed or deleted: read them again on the next call."""
    global _namespaces_memo
    _namespaces_memo = None


def identity_namespace_get(
    code: str,
    *,
    at: str = "/namespace",
    namespaces: Mapping[str, IdentityNamespace] | None = None,
) -> IdentityNamespace:
    """The namespace with this code; ``UnknownNamespace`` pointing at ``at`` otherwise.

    A caller that already read every namespace (``identity_namespaces``) passes them.
    """
    namespace = (
        IdentityNamespace.objects.filter(code=code).first()
        if namespaces is None
        else namespaces.get(code)
    )
    if namespace is None:
        message = _("Unknown identity namespace “%s”.") % code
        raise UnknownNamespace(message=message, errors=[FieldError(at, message)])
    return namespace


def profile_resolve(*, namespace: str | IdentityNamespace, value: str, at: str = "") -> Profile:
    """The profile known by (namespace, value); the value is normalised first.

    Raises ``UnknownNamespace`` (pointer ``<at>/namespace``), ``InvalidInput`` for a
    value not valid in its namespace (``<at>/value``, the normaliser's message), and
    ``ProfileNotFound`` when no profile has the identity. The API passes
    ``at="/identity"``; callers that can go on without a profile catch
    ``ProfileNotFound``.
    """
    ns = (
        namespace
        if isinstance(namespace, IdentityNamespace)
        else identity_namespace_get(namespace, at=at + "/namespace")
    )
    try:
        normalized = identity_normalize(ns, value)
    except IdentityValueError as error:
        raise invalid_input([FieldError(at + "/value", str(error))]) from None
    identity = (
        Identity.objects.select_related("profile").filter(namespace=ns, value=normalized).first()
    )
    if identity is None:
        raise ProfileNotFound(
            message=_("No profile has the identity %(namespace)s “%(value)s”.")
            % {"namespace": ns.code, "value": normalized}
        )
    return identity.profile


_RELATIONS = (
    Prefetch("identities", queryset=Identity.objects.select_related("namespace")),
    "push_registrations",
    "consents",
)


@dataclass(frozen=True)
class ProfileRelations:
    """What the API shows of a profile besides its own columns: identities as (namespace
    code, value); push registrations as (app id, platform, token, last seen), in the
    model's order; consent by channel as (status, source, updated at)."""

    identities: list[tuple[str, str]]
    push_registrations: list[tuple[str, str, str, datetime | None]]
    consents: dict[str, tuple[str, str, datetime]]


def profile_relations(profile: Profile) -> ProfileRelations:
    """The relations of a profile loaded by ``profile_with_relations`` (no query)."""
    return ProfileRelations(
        identities=[(i.namespace.code, i.value) for i in profile.identities.all()],
        push_registrations=[
            (push.app_id, push.platform, push.token, push.last_seen_at)
            for push in profile.push_registrations.all()
        ],
        consents={c.channel: (c.status, c.source, c.updated_at) for c in profile.consents.all()},
    )


def profile_with_relations(profile: Profile) -> Profile:
    """``profile`` again with its identities (and their namespaces), push registrations and
    consents prefetched: reading all of them costs three more queries, not one per row.
    (``PUT`` needs none: ``services.profiles.profile_upsert_shown`` knows them.)
    """
    return Profile.objects.prefetch_related(*_RELATIONS).get(pk=profile.pk)
