"""OpenAPI pieces every API view uses: the problem shape and its responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.problems import PROBLEM_CONTENT_TYPE


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text=_("JSON pointer (RFC 6901) to the bad field."))
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem (application/problem+json)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text=_("Stable machine-readable code, see docs/api.md."))
    errors = ProblemErrorSerializer(many=True)  # type: ignore[assignment]

    class Meta:
        ref_name = "Problem"


# What each problem status means for most operations; an operation that can say more
# passes its own wording to ``problems(..., descriptions=...)``.
PROBLEM_MEANINGS: dict[int, Promise] = {
    400: _(
        "The request does not match this document: malformed JSON, a wrong type, an unknown "
        "field, a value outside the declared limits (a pointer per field)."
    ),
    401: _("Missing or invalid API key."),
    403: _("The API key lacks the scope, or the user the permission."),
    404: _("No such resource, or hidden by access labels."),
    409: _("The resource's state does not allow this."),
    413: _("The body is larger than 1 MB."),
    415: _("The body is not application/json."),
    422: _(
        "The request matches this document but its values are not acceptable: a reference "
        "to nothing, a name in use, a value that does not parse (a pointer per field)."
    ),
}


def problems(
    *statuses: int, descriptions: Mapping[int, str | Promise] | None = None
) -> dict[Any, Any]:
    """Schema responses for the problems an operation can answer with.

    401 and 403 are always included (every operation needs a key with a scope).
    ``descriptions`` replaces the general meaning of a status where the operation
    can be more specific, e.g. ``problems(404, descriptions={404: _("No profile
    has this identity.")})``; describing a status not listed is a mistake and raises.
    """
    answered = (401, 403, *statuses)
    described = dict(descriptions or {})
    unlisted = sorted(set(described) - set(answered))
    if unlisted:
        raise ValueError(f"descriptions for statuses the operation does not list: {unlisted}")
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=described.get(status, PROBLEM_MEANINGS[status])
        )
        for status in answered
    }
