"""Reading who holds what: the access labels of a user or an API key."""

from __future__ import annotations

from django.db.models import QuerySet

from core.actors import Actor
from core.models import AccessLabel, ApiKey


def api_key_label_ids(key: ApiKey) -> frozenset[int]:
    """Ids of the access labels ``key`` holds; read once per cached key
    (``core.apikeys.api_key_authenticate``), not once per call."""
    held: frozenset[int] | None = getattr(key, "label_ids", None)
    if held is None:
        held = frozenset(key.access_labels.values_list("id", flat=True))
        key.label_ids = held  # type: ignore[attr-defined]
    return held


def access_labels_held(actor: Actor) -> set[int] | None:
    """Ids of the labels ``actor`` holds; None means all (superusers, the system)."""
    if actor.api_key is not None:
        return set(api_key_label_ids(actor.api_key))
    user = actor.db_user
    if user is None:
        return None if actor.user is None else set()
    if actor.is_superuser:
        return None
    return set(AccessLabel.objects.filter(groups__user=user).values_list("id", flat=True))


def access_labels_not_held(actor: Actor) -> QuerySet[AccessLabel] | None:
    """The labels ``actor`` lacks, as a lazy query to use as a subquery (no query of its
    own); None when it holds them all (superusers, the system)."""
    if actor.api_key is not None:
        return AccessLabel.objects.exclude(api_keys=actor.api_key)
    user = actor.db_user
    if user is None:
        return None if actor.user is None else AccessLabel.objects.all()
    if actor.is_superuser:
        return None
    return AccessLabel.objects.exclude(groups__user=user)
