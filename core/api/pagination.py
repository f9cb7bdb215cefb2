"""Limit/offset pagination for the management API's lists.

``?limit=`` (1 to ``MAX_LIMIT``, default ``DEFAULT_LIMIT``) and ``?offset=``;
the page carries ``count``, ``limit``, ``offset``, ``next`` and ``previous``
(absolute URLs or null) and ``results``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200  # a page of full campaign documents stays well under a second
MAX_OFFSET = 1_000_000_000  # keeps OFFSET inside every database's integer range

M = TypeVar("M", bound=Model)


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


def page_serializer(name: str, item: serializers.Serializer) -> type[serializers.Serializer]:
    """The schema of one page whose ``results`` are ``item``s."""
    return type(
        f"{name}PageSerializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
            "offset": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
            "Meta": type("Meta", (), {"ref_name": f"{name}Page"}),
        },
    )


def paginate(
    request: Request,
    queryset: QuerySet[M],
    *,
    limit: int,
    offset: int,
    render: Callable[[M], dict[str, Any]],
) -> dict[str, Any]:
    count = queryset.count()
    results = [render(item) for item in queryset[offset : offset + limit]]
    url = request.build_absolute_uri()
    next_url = (
        replace_query_param(replace_query_param(url, "offset", offset + limit), "limit", limit)
        if offset + limit < count
        else None
    )
    if offset <= 0:
        previous_url = None
    elif offset - limit <= 0:
        previous_url = replace_query_param(remove_query_param(url, "offset"), "limit", limit)
    else:
        previous_url = replace_query_param(
            replace_query_param(url, "offset", offset - limit), "limit", limit
        )
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": next_url,
        "previous": previous_url,
        "results": results,
    }
