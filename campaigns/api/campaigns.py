"""Campaign resources: list, create, retrieve, replace, edit, delete."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.access import ADD_CAMPAIGNS, CHANGE_CAMPAIGNS, DELETE_CAMPAIGNS, READ_CAMPAIGNS
from campaigns.api.common import CAMPAIGN_ID, campaign_for_actor
from campaigns.api.serializers import (
    CampaignDocumentInputSerializer,
    CampaignOutputSerializer,
    CampaignReplaceInputSerializer,
    campaign_output,
)
from campaigns.models import Campaign, Category, Status
from campaigns.selectors import campaign_list_visible
from campaigns.services.authoring import campaign_create, campaign_delete, campaign_update
from core.api.fields import StrictCharField
from core.api.pagination import PageQuerySerializer, page_serializer, paginate
from core.api.permissions import request_actor
from core.api.schema import problems
from core.channels import Channel

CampaignPageSerializer = page_serializer("Campaign", CampaignOutputSerializer(many=True))


def _with_document_relations(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Everything ``campaign_output`` reads, in a fixed number of queries."""
    return queryset.select_related("identity_namespace", "live_version").prefetch_related(
        "tags", "access_labels", "contents"
    )


class CampaignInputSerializer(CampaignDocumentInputSerializer):
    class Meta:
        ref_name = "CampaignInput"


class CampaignCollectionApi(APIView):
    """``GET /campaigns`` lists visible campaigns; ``POST /campaigns`` creates a draft."""

    access = {"GET": READ_CAMPAIGNS, "POST": ADD_CAMPAIGNS}

    class FilterSerializer(PageQuerySerializer):
        status = serializers.ChoiceField(choices=Status.choices, required=False)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        category = serializers.ChoiceField(choices=Category.choices, required=False)
        tag = StrictCharField(required=False, max_length=64)
        search = StrictCharField(
            required=False, max_length=200, help_text=_("Part of the name, any case.")
        )

        class Meta:
            ref_name = "CampaignFilter"

    @extend_schema(
        operation_id="campaigns_list",
        summary="List campaigns",
        parameters=[FilterSerializer],
        responses={200: CampaignPageSerializer, **problems(400)},
    )
    def get(self, request: Request) -> Response:
        """Visible campaigns (access labels apply), newest first, filtered and paginated."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query: dict[str, Any] = filters.validated_data
        campaigns = campaign_list_visible(actor=request_actor(request))
        for name in ("status", "channel", "category"):
            if name in query:
                campaigns = campaigns.filter(**{name: query[name]})
        if "tag" in query:
            campaigns = campaigns.filter(tags__name=query["tag"])
        if "search" in query:
            campaigns = campaigns.filter(name__icontains=query["search"])
        campaigns = _with_document_relations(campaigns).order_by("-created_at", "id")
        page = paginate(
            request,
            campaigns,
            limit=query["limit"],
            offset=query["offset"],
            render=campaign_output,
        )
        return Response(page)

    @extend_schema(
        operation_id="campaigns_create",
        summary="Create a draft campaign",
        request=CampaignInputSerializer,
        responses={201: CampaignOutputSerializer, **problems(400, 413, 415, 422)},
    )
    def post(self, request: Request) -> Response:
        """Create a draft from a campaign document; omitted fields take their defaults."""
        serializer = CampaignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = campaign_create(data=serializer.validated_data, actor=request_actor(request))
        return Response(campaign_output(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    """One campaign: ``GET``, ``PUT`` (whole document), ``PATCH`` (some fields), ``DELETE``."""

    access = {
        "GET": READ_CAMPAIGNS,
        "PUT": CHANGE_CAMPAIGNS,
        "PATCH": CHANGE_CAMPAIGNS,
        "DELETE": DELETE_CAMPAIGNS,
    }

    @extend_schema(
        operation_id="campaigns_retrieve",
        summary="Get a campaign",
        parameters=[CAMPAIGN_ID],
        responses={200: CampaignOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        """The campaign document with its server-set fields."""
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=request_actor(request))
        return Response(campaign_output(campaign))

    def _update(self, request: Request, campaign_id: str, *, partial: bool) -> Response:
        actor = request_actor(request)
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=actor)
        serializer = (
            CampaignInputSerializer(data=request.data, partial=True)
            if partial
            else CampaignReplaceInputSerializer(data=request.data)
        )
        serializer.is_valid(raise_exception=True)
        campaign = campaign_update(campaign=campaign, data=serializer.validated_data, actor=actor)
        return Response(campaign_output(campaign))

    @extend_schema(
        operation_id="campaigns_replace",
        summary="Replace a campaign's document (every field required)",
        parameters=[CAMPAIGN_ID],
        request=CampaignReplaceInputSerializer,
        responses={200: CampaignOutputSerializer, **problems(400, 404, 409, 413, 415, 422)},
    )
    def put(self, request: Request, campaign_id: str) -> Response:
        """Replace the document of a draft (or of an open draft version).

        The whole document: a missing field is a 400 with its pointer, never reset to
        its default, so a client that leaves out ``accessLabels`` cannot lift a restriction.
        """
        return self._update(request, campaign_id, partial=False)

    @extend_schema(
        operation_id="campaigns_partial_update",
        summary="Change some fields of a campaign",
        parameters=[CAMPAIGN_ID],
        request=CampaignInputSerializer,
        responses={200: CampaignOutputSerializer, **problems(400, 404, 409, 413, 415, 422)},
    )
    def patch(self, request: Request, campaign_id: str) -> Response:
        """Change the fields present in the body; nested objects may be partial."""
        return self._update(request, campaign_id, partial=True)

    @extend_schema(
        operation_id="campaigns_destroy",
        summary="Delete a draft campaign",
        parameters=[CAMPAIGN_ID],
        responses={204: None, **problems(404, 409)},
    )
    def delete(self, request: Request, campaign_id: str) -> Response:
        """Delete a draft; other statuses answer 409 (archive them instead)."""
        actor = request_actor(request)
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=actor)
        campaign_delete(campaign=campaign, actor=actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
