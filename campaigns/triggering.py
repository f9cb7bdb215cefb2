"""What a trigger call needs to know about a campaign, cached between calls.

``trigger_target_get`` answers "which version is live, in which status, behind
which access labels" from the cache (Redis when configured, else the process's
memory). The lifecycle services call ``trigger_target_forget`` after every
transition that changes one of those (activate, publish, stop, archive, the
dispatcher's start and end), so a stopped campaign is refused at once; entries
also expire after ``TRIGGER_TARGET_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from django.core.cache import cache
from django.db import transaction

from campaigns.models import Campaign, CampaignVersion

TRIGGER_TARGET_CACHE_SECONDS = 60
_MISSING = "missing"  # cached "no such campaign", so unknown ids cost no query either


@dataclass(frozen=True)
class TriggerTarget:
    """A campaign as trigger calls see it: its status, category and live version.

    ``category`` is the row's; once a version is live, its snapshot's is the one
    that counts (they agree: the category cannot change after activation).
    """

    campaign_id: UUID
    status: str
    version_id: UUID | None
    category: str


def _key(campaign_id: UUID) -> str:
    # v2: the cached value gained ``category``; older entries are never read back.
    return f"trigger-target:v2:{campaign_id}"


def trigger_target_get(campaign_id: UUID) -> TriggerTarget | None:
    """The campaign's status and live version, or None when there is no such campaign."""
    found = cache.get(_key(campaign_id))
    if found == _MISSING:
        return None
    if isinstance(found, TriggerTarget):
        return found
    row = (
        Campaign.objects.filter(pk=campaign_id)
        .values("status", "live_version_id", "category")
        .first()
    )
    if row is None:
        cache.set(_key(campaign_id), _MISSING, TRIGGER_TARGET_CACHE_SECONDS)
        return None
    target = TriggerTarget(campaign_id, row["status"], row["live_version_id"], row["category"])
    cache.set(_key(campaign_id), target, TRIGGER_TARGET_CACHE_SECONDS)
    return target


def trigger_target_forget(campaign_id: UUID) -> None:
    """Drop the cached target now and again after the current transaction commits
    (a call between the two would otherwise cache the old state once more)."""
    cache.delete(_key(campaign_id))
    transaction.on_commit(lambda: cache.delete(_key(campaign_id)))


_VERSION_LABELS_KEY = "version-labels:{}"
# A process's own memo of version labels (version_label_ids): how long, how many.
VERSION_LABELS_MEMO_SECONDS = 5.0
VERSION_LABELS_MEMO_SIZE = 1024
_version_labels_memo: dict[UUID, tuple[float, frozenset[int]]] = {}


def campaign_label_ids(campaign_id: UUID) -> frozenset[int]:
    """The ids of the access labels on a campaign's row: what guards a campaign that has
    no version yet (not cached: only calls for never-activated campaigns ask)."""
    return frozenset(
        Campaign.access_labels.through.objects.filter(campaign_id=campaign_id).values_list(
            "accesslabel_id", flat=True
        )
    )


def version_label_ids(version_id: UUID) -> frozenset[int]:
    """The ids of the access labels a frozen version carries, cached for a minute (a
    version never changes, but deleting an access label takes it off every version).

    Each process also keeps what it read for ``VERSION_LABELS_MEMO_SECONDS``: every
    trigger call asks, and a frozen version's answer only ever shrinks (a deleted
    label), so a few seconds' delay only refuses a little longer. Fail closed.
    """
    now = time.monotonic()
    memo = _version_labels_memo.get(version_id)
    if memo is not None and now - memo[0] < VERSION_LABELS_MEMO_SECONDS:
        return memo[1]
    key = _VERSION_LABELS_KEY.format(version_id)
    found = cache.get(key)
    if isinstance(found, frozenset):
        _memo_version_labels(version_id, now, found)
        return found
    labels = frozenset(
        CampaignVersion.access_labels.through.objects.filter(
            campaignversion_id=version_id
        ).values_list("accesslabel_id", flat=True)
    )
    # Not forever: deleting an access label removes it from every version that has it.
    cache.set(key, labels, TRIGGER_TARGET_CACHE_SECONDS)
    _memo_version_labels(version_id, now, labels)
    return labels


def _memo_version_labels(version_id: UUID, at: float, labels: frozenset[int]) -> None:
    if len(_version_labels_memo) >= VERSION_LABELS_MEMO_SIZE:
        _version_labels_memo.clear()  # live versions are few; a full memo is old ones
    _version_labels_memo[version_id] = (at, labels)
