"""OpenAPI pieces every API view uses: the problem shape and its responses."""

from __future__ import annotations

from typing import Any

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


_PROBLEM_MEANING = {
    400: "Malformed JSON or invalid fields (problem+json with a pointer per field).",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope, or the user the permission.",
    404: "No such resource, or hidden by access labels.",
    409: "The campaign's status does not allow this.",
    413: "The body is larger than 1 MB.",
    415: "The body is not application/json.",
    422: "Review checks failed (a pointer per failing field).",
}


def problems(*statuses: int) -> dict[Any, Any]:
    """Schema responses for the problems an operation can answer with."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_PROBLEM_MEANING[status]
        )
        for status in (401, 403, *statuses)
    }
