"""``GET /api/v1/health``: database and broker, without authentication."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from core.errors import FieldError
from core.health import health_check


class HealthChecksSerializer(serializers.Serializer):
    database = serializers.CharField(help_text="ok or error")
    broker = serializers.CharField(help_text="ok or error")

    class Meta:
        ref_name = "HealthChecks"


class HealthApi(APIView):
    # A probe must not need a key, nor fail because a caller sent a stale one.
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["ok"])
        checks = HealthChecksSerializer()

        class Meta:
            ref_name = "Health"

    class UnhealthySerializer(serializers.Serializer):
        type = serializers.CharField()
        title = serializers.CharField()
        status = serializers.IntegerField()
        detail = serializers.CharField()
        code = serializers.CharField()
        errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]
        checks = HealthChecksSerializer()

        class Meta:
            ref_name = "HealthProblem"

    @extend_schema(
        operation_id="health",
        summary="Is Clarion able to accept and deliver messages?",
        auth=[],
        responses={
            200: OutputSerializer,
            (503, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                UnhealthySerializer, description="A dependency does not answer."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        report = health_check()
        if report.ok:
            return Response({"status": "ok", "checks": report.checks})
        failing = report.failing
        body = problem_body(
            status=503,
            code="unhealthy",
            detail=_("Not answering: %s.") % ", ".join(failing),
            errors=[FieldError(f"/checks/{name}", _("Does not answer.")) for name in failing],
        )
        body["checks"] = report.checks
        return Response(
            body,
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )
