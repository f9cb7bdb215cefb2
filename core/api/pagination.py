"""Limit/offset pagination for the management API's lists.

``?limit=`` (1 to ``MAX_LIMIT``, default ``DEFAULT_LIMIT``) and ``?offset=``;
the page carries ``count``, ``limit``, ``offset``, ``next`` and ``previous``
(absolute URLs or null) and ``results``. Query parameters are parsed by
``QuerySerializer``, as the OpenAPI document declares them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200  # a page of full campaign documents stays well under a second
MAX_OFFSET = 1_000_000_000  # keeps OFFSET inside every database's integer range

M = TypeVar("M", bound=Model)


class QuerySerializer(serializers.Serializer):
    """Query parameters, read exactly as the OpenAPI document declares them.

    Each parameter is single-valued: given twice it is an error (DRF would
    silently take the last). An empty value is a value: ``?status=`` is not a
    status and ``?search=`` is below the minimum length (DRF would read both as
    omitted). Errors are reported under ``query``, so their pointers read
    ``/query/<name>`` (docs/api.md, "Errors"). Undeclared parameters are ignored.
    """

    def to_internal_value(self, data: Any) -> Any:
        values: dict[str, Any] = {}
        repeated: dict[str, list[Any]] = {}
        if isinstance(data, QueryDict):
            for name, _field in self.fields.items():
                given = data.getlist(name)
                if len(given) > 1:
                    repeated[name] = [_("Give this parameter once.")]
                elif given:
                    values[name] = given[0]
        else:
            values = dict(data)
        try:
            validated = super().to_internal_value(values)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            raise serializers.ValidationError({"query": {**detail, **repeated}}) from None
        if repeated:
            raise serializers.ValidationError({"query": repeated})
        return validated


class PageQuerySerializer(QuerySerializer):
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
