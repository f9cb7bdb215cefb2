"""Reading audiences: who is in one, how many, a sample, and streaming them in batches."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from audiences.models import Audience, Profile
from audiences.rules import rules_to_q

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
    audience: Audience, batch_size: int = AUDIENCE_BATCH_SIZE
) -> Iterator[list[Profile]]:
    """Stream the profiles of ``audience`` in lists of at most ``batch_size``, by primary key.

    Keyset pagination (``pk > last ORDER BY pk LIMIT n``, never OFFSET): each
    batch is one short query, memory stays bounded by one batch, and every
    profile in the audience for the whole iteration is visited exactly once,
    also when profiles are added or removed between batches (those may or may
    not be visited, depending on where their key falls). Audience executions
    call this.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    profiles = audience_profiles(audience).order_by("pk")
    batch = list(profiles[:batch_size])
    while batch:
        yield batch
        if len(batch) < batch_size:
            return
        batch = list(profiles.filter(pk__gt=batch[-1].pk)[:batch_size])
