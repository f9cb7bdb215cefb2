"""Audiences: list, create, retrieve, estimate the size, add members to static ones."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.models import Audience
from audiences.selectors import audience_estimate
from audiences.services.audiences import (
    MAX_MEMBERS_PER_CALL,
    MAX_NAME_LENGTH,
    audience_add_members,
    audience_create,
)
from core.api.fields import ClosedSerializer, StrictCharField
from core.api.lookups import object_or_404
from core.api.pagination import PageQuerySerializer, page_serializer, paginate
from core.api.permissions import Access
from core.api.schema import problems

READ_AUDIENCES = Access("profiles:read", "audiences.view_audience")
ADD_AUDIENCES = Access("profiles:write", "audiences.add_audience")
CHANGE_AUDIENCES = Access("profiles:write", "audiences.change_audience")

AUDIENCE_ID = OpenApiParameter(
    "audience_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The audience's id."
)
RULES_HELP = gettext_lazy(
    'Rule-based audiences: {"combinator": "and"|"or", "conditions": [...]}, each condition '
    '{"field", "operator", "value"} or a nested group; null for static audiences. See docs/api.md.'
)
NOT_STATIC = gettext_lazy(
    "The audience is rule-based: its members follow its rules (code audience_not_static)."
)


class AudienceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=Audience.Kind.choices)
    rules = serializers.JSONField(allow_null=True, help_text=RULES_HELP)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "AudienceResource"


def audience_output(audience: Audience) -> dict[str, Any]:
    data: dict[str, Any] = AudienceOutputSerializer(
        {
            "id": audience.pk,
            "name": audience.name,
            "description": audience.description,
            "kind": audience.kind,
            "rules": audience.rules if audience.kind == Audience.Kind.RULES else None,
            "created_at": audience.created_at,
            "updated_at": audience.updated_at,
        }
    ).data
    return data


def audience_or_404(audience_id: str) -> Audience:
    return object_or_404(
        Audience.objects.all(),
        audience_id,
        not_found=_("No audience has the id “%s”.") % audience_id,
    )


class AudienceCollectionApi(APIView):
    """``GET /audiences`` lists audiences by name; ``POST /audiences`` creates one."""

    access = {"GET": READ_AUDIENCES, "POST": ADD_AUDIENCES}

    class FilterSerializer(PageQuerySerializer):
        search = StrictCharField(
            required=False, max_length=200, help_text=gettext_lazy("Part of the name, any case.")
        )
        kind = serializers.ChoiceField(choices=Audience.Kind.choices, required=False)

        class Meta:
            ref_name = "AudienceFilter"

    class InputSerializer(ClosedSerializer):
        name = StrictCharField(max_length=MAX_NAME_LENGTH)
        description = StrictCharField(required=False, allow_blank=True, default="")
        kind = serializers.ChoiceField(choices=Audience.Kind.choices)
        rules = serializers.JSONField(
            required=False, allow_null=True, default=None, help_text=RULES_HELP
        )

        class Meta:
            ref_name = "AudienceInput"

    @extend_schema(
        operation_id="audiences_list",
        summary="List audiences",
        parameters=[FilterSerializer],
        responses={
            200: page_serializer("AudienceResource", AudienceOutputSerializer(many=True)),
            **problems(400),
        },
    )
    def get(self, request: Request) -> Response:
        """Audiences by name, filtered by part of the name and by kind."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query: dict[str, Any] = filters.validated_data
        audiences = Audience.objects.order_by("name", "id")
        if "search" in query:
            audiences = audiences.filter(name__icontains=query["search"])
        if "kind" in query:
            audiences = audiences.filter(kind=query["kind"])
        page = paginate(
            request, audiences, limit=query["limit"], offset=query["offset"], render=audience_output
        )
        return Response(page)

    @extend_schema(
        operation_id="audiences_create",
        summary="Create an audience",
        request=InputSerializer,
        responses={201: AudienceOutputSerializer, **problems(400, 413, 415, 422)},
    )
    def post(self, request: Request) -> Response:
        """A static audience (add members afterwards) or a rule-based one (rules validated)."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        audience = audience_create(
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            rules=data["rules"],
        )
        return Response(audience_output(audience), status=status.HTTP_201_CREATED)


class AudienceDetailApi(APIView):
    access = {"GET": READ_AUDIENCES}

    @extend_schema(
        operation_id="audiences_retrieve",
        summary="Get an audience",
        parameters=[AUDIENCE_ID],
        responses={200: AudienceOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, audience_id: str) -> Response:
        return Response(audience_output(audience_or_404(audience_id)))


class AudienceEstimateApi(APIView):
    access = {"GET": READ_AUDIENCES}

    class OutputSerializer(serializers.Serializer):
        audienceId = serializers.UUIDField()
        estimatedSize = serializers.IntegerField(
            help_text=gettext_lazy("Profiles in the audience when counted.")
        )
        computedAt = serializers.DateTimeField()

        class Meta:
            ref_name = "AudienceEstimate"

    @extend_schema(
        operation_id="audiences_estimate",
        summary="Count the profiles in an audience now",
        parameters=[AUDIENCE_ID],
        responses={200: OutputSerializer, **problems(404)},
    )
    def get(self, request: Request, audience_id: str) -> Response:
        """One COUNT query; the size changes as profiles do."""
        audience = audience_or_404(audience_id)
        size = audience_estimate(audience)
        data = self.OutputSerializer(
            {"audienceId": audience.pk, "estimatedSize": size, "computedAt": timezone.now()}
        ).data
        return Response(data)


class IdentityInputSerializer(ClosedSerializer):
    namespace = StrictCharField(max_length=64)
    value = StrictCharField(max_length=320)

    class Meta:
        ref_name = "AudienceIdentityInput"


class AudienceMembersApi(APIView):
    access = {"POST": CHANGE_AUDIENCES}

    class InputSerializer(ClosedSerializer):
        identities = serializers.ListField(
            child=IdentityInputSerializer(),
            min_length=1,
            max_length=MAX_MEMBERS_PER_CALL,
        )

        class Meta:
            ref_name = "AudienceMembersInput"

    class OutputSerializer(serializers.Serializer):
        added = serializers.IntegerField(help_text=gettext_lazy("Profiles added."))
        alreadyMembers = serializers.IntegerField()
        unknown = serializers.IntegerField(help_text=gettext_lazy("Identities no profile has."))
        invalid = serializers.IntegerField(
            help_text=gettext_lazy("Unknown namespaces and values not valid in theirs.")
        )
        errors = serializers.ListField(  # type: ignore[assignment]
            child=serializers.DictField(child=serializers.CharField()),
            help_text=gettext_lazy(
                'One {"pointer", "detail"} per identity not added, e.g. /identities/3.'
            ),
        )

        class Meta:
            ref_name = "AudienceMembersResult"

    @extend_schema(
        operation_id="audiences_members_add",
        summary="Add profiles to a static audience by identity",
        parameters=[AUDIENCE_ID],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **problems(400, 404, 409, 413, 415, descriptions={409: NOT_STATIC}),
        },
    )
    def post(self, request: Request, audience_id: str) -> Response:
        """Values are normalised per namespace; identities not found are reported, not fatal."""
        audience = audience_or_404(audience_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identities = [
            (item["namespace"], item["value"]) for item in serializer.validated_data["identities"]
        ]
        result = audience_add_members(audience=audience, identities=identities)
        return Response(
            {
                "added": result.changed,
                "alreadyMembers": result.unchanged,
                "unknown": result.unknown,
                "invalid": result.invalid,
                "errors": [{"pointer": e.pointer, "detail": e.detail} for e in result.errors],
            }
        )
