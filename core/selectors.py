"""Reading who holds what: access labels of a user or an API key."""

from __future__ import annotations

from core.actors import Actor
from core.models import AccessLabel


def access_labels_held(actor: Actor) -> set[int] | None:
    """Ids of the labels ``actor`` holds; None means all (superusers, the system)."""
    if actor.api_key is not None:
        return set(actor.api_key.access_labels.values_list("id", flat=True))
    user = actor.db_user
    if user is None:
        return None if actor.user is None else set()
    if actor.is_superuser:
        return None
    return set(AccessLabel.objects.filter(groups__user=user).values_list("id", flat=True))
