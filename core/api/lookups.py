"""Finding the object a URL names: ids are matched as strings and parsed here.

A malformed id is a problem+json 404 like an unknown one: the path names
nothing, so the answer is the same and never a 500.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet
from rest_framework import exceptions

M = TypeVar("M", bound=Model)


def uuid_or_404(object_id: str, *, not_found: str) -> uuid.UUID:
    """The UUID ``object_id`` spells, or a 404 whose detail is ``not_found``."""
    try:
        return uuid.UUID(object_id)
    except ValueError:
        raise exceptions.NotFound(not_found) from None


def object_or_404(queryset: QuerySet[M], object_id: str, *, not_found: str) -> M:
    """The row of ``queryset`` whose UUID primary key ``object_id`` spells, or a 404.

    ``not_found`` is the problem's detail, e.g. "No campaign has the id “x”.".
    """
    pk = uuid_or_404(object_id, not_found=not_found)
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise exceptions.NotFound(not_found)
    return found
