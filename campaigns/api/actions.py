"""Campaign actions: review, status transitions, duplicate, versions, previews."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.access import ADD_CAMPAIGNS, CHANGE_CAMPAIGNS, READ_CAMPAIGNS
from campaigns.api.common import CAMPAIGN_ID, campaign_for_actor
from campaigns.api.serializers import CampaignOutputSerializer, campaign_output
from campaigns.models import Campaign, CampaignVersion
from campaigns.preview import campaign_preview, preview_warnings
from campaigns.review import campaign_review
from campaigns.services import lifecycle
from campaigns.services.authoring import campaign_duplicate
from core.api.fields import ClosedSerializer, StrictCharField, StrictObjectField
from core.api.pagination import PageQuerySerializer, page_serializer, paginate
from core.api.permissions import request_actor
from core.api.schema import problems

Transition = Callable[..., Campaign]


def _transition(request: Request, campaign_id: str, service: Transition) -> Response:
    actor = request_actor(request)
    campaign = campaign_for_actor(campaign_id=campaign_id, actor=actor)
    campaign = service(campaign=campaign, actor=actor)
    return Response(campaign_output(campaign))


def _transition_schema(operation_id: str, summary: str, *codes: int) -> Any:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[CAMPAIGN_ID],
        request=None,
        responses={200: CampaignOutputSerializer, **problems(404, *codes)},
    )


class _TransitionApi(APIView):
    access = {"POST": CHANGE_CAMPAIGNS}


class CampaignActivateApi(_TransitionApi):
    @_transition_schema(
        "campaigns_activate",
        "Activate a draft: live, or scheduled when the start is ahead",
        409,
        422,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_activate)


class CampaignSubmitApi(_TransitionApi):
    @_transition_schema(
        "campaigns_submit", "Submit a draft for review (when approval is required)", 409, 422
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_submit_for_review)


class CampaignStopApi(_TransitionApi):
    @_transition_schema("campaigns_stop", "Stop a live or scheduled campaign", 409)
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_stop)


class CampaignArchiveApi(_TransitionApi):
    @_transition_schema("campaigns_archive", "Archive a campaign that is not a draft", 409)
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_archive)


class CampaignDraftVersionApi(_TransitionApi):
    @_transition_schema(
        "campaigns_draft_version_create", "Open a draft version of a live campaign", 409
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_open_draft_version)


class CampaignPublishApi(_TransitionApi):
    @_transition_schema(
        "campaigns_publish", "Publish the draft version as the new live version", 409, 422
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_publish)


class CampaignDiscardDraftApi(_TransitionApi):
    @_transition_schema("campaigns_draft_version_discard", "Discard the draft version's edits", 409)
    def post(self, request: Request, campaign_id: str) -> Response:
        return _transition(request, campaign_id, lifecycle.campaign_discard_draft_version)


class CampaignDuplicateApi(APIView):
    """A new draft with the same configuration and content."""

    access = {"POST": ADD_CAMPAIGNS}

    class InputSerializer(ClosedSerializer):
        name = StrictCharField(
            required=False, max_length=200, help_text=_("Default: “<name> (copy)”.")
        )

        class Meta:
            ref_name = "CampaignDuplicateInput"

    @extend_schema(
        operation_id="campaigns_duplicate",
        summary="Duplicate a campaign as a new draft",
        parameters=[CAMPAIGN_ID],
        request=InputSerializer,
        responses={201: CampaignOutputSerializer, **problems(400, 404, 422)},
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        actor = request_actor(request)
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=actor)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = campaign_duplicate(
            campaign=campaign, actor=actor, name=serializer.validated_data.get("name")
        )
        return Response(campaign_output(copy), status=status.HTTP_201_CREATED)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(help_text=_("JSON pointer into the campaign document."))

    class Meta:
        ref_name = "ReviewFinding"


class CampaignReviewApi(APIView):
    """Run the review checks; errors block activation, warnings do not. Writes nothing."""

    access = {"POST": READ_CAMPAIGNS}

    class OutputSerializer(serializers.Serializer):
        errors = FindingSerializer(many=True)  # type: ignore[assignment]
        warnings = FindingSerializer(many=True)

        class Meta:
            ref_name = "CampaignReview"

    @extend_schema(
        operation_id="campaigns_review",
        summary="Review a campaign's configuration and content",
        parameters=[CAMPAIGN_ID],
        request=None,
        responses={200: OutputSerializer, **problems(404)},
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=request_actor(request))
        return Response(self.OutputSerializer(campaign_review(campaign=campaign).as_dict()).data)


class CampaignVersionListApi(APIView):
    """The frozen versions of a campaign, newest first."""

    access = {"GET": READ_CAMPAIGNS}

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        number = serializers.IntegerField()
        createdAt = serializers.DateTimeField(source="created_at")
        createdBy = serializers.SerializerMethodField(
            help_text=_("Username of who froze it; null for API keys and the system.")
        )
        snapshot = serializers.JSONField(
            help_text=_("The campaign document and channel settings as frozen.")
        )

        class Meta:
            ref_name = "CampaignVersion"

        def get_createdBy(self, version: CampaignVersion) -> str | None:
            user = version.created_by
            return user.get_username() if user is not None else None

    @extend_schema(
        operation_id="campaigns_versions_list",
        summary="List a campaign's versions",
        parameters=[CAMPAIGN_ID, PageQuerySerializer],
        responses={
            200: page_serializer("CampaignVersion", OutputSerializer(many=True)),
            **problems(400, 404),
        },
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=request_actor(request))
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        versions = campaign.versions.select_related("created_by").order_by("-number")
        page = paginate(
            request,
            versions,
            limit=query.validated_data["limit"],
            offset=query.validated_data["offset"],
            render=lambda version: self.OutputSerializer(version).data,
        )
        return Response(page)


class PreviewWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Always empty_variable for now."))
    message = serializers.CharField()
    field = serializers.CharField(help_text=_("JSON pointer of the content part it is in."))
    variable = serializers.CharField(help_text=_("The variable's path, e.g. profile.name."))

    class Meta:
        ref_name = "CampaignPreviewWarning"


class CampaignPreviewApi(APIView):
    """Render a campaign's content for a sample profile and context. Writes nothing.

    A campaign with a live version previews that version, as trigger calls send
    it; a draft previews its own content.
    """

    access = {"POST": READ_CAMPAIGNS}

    class InputSerializer(ClosedSerializer):
        locale = StrictCharField(
            required=False,
            allow_null=True,
            default=None,
            max_length=35,
            help_text=_("The recipient's locale; fallbacks apply (pt-BR -> pt -> default)."),
        )
        profile = StrictObjectField(default=dict, help_text=_("Fills {{ profile.* }}."))
        context = StrictObjectField(  # type: ignore[assignment]
            default=dict, help_text=_("Fills {{ context.* }}.")
        )

        class Meta:
            ref_name = "CampaignPreviewInput"

    class OutputSerializer(serializers.Serializer):
        locale = serializers.CharField(help_text=_("The content locale that was used."))
        parts = serializers.DictField(child=serializers.CharField())
        warnings = PreviewWarningSerializer(
            many=True,
            help_text=_(
                "A warning per profile or context variable that rendered empty (missing or "
                "empty in the sample data)."
            ),
        )

        class Meta:
            ref_name = "CampaignPreview"

    @extend_schema(
        operation_id="campaigns_previews_create",
        summary="Preview a campaign's content",
        parameters=[CAMPAIGN_ID],
        request=InputSerializer,
        responses={200: OutputSerializer, **problems(400, 404, 413, 415, 422)},
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = campaign_for_actor(campaign_id=campaign_id, actor=request_actor(request))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rendered = campaign_preview(
            campaign=campaign,
            locale=data["locale"],
            profile=data["profile"],
            context=data["context"],
        )
        preview = {
            "locale": rendered.locale,
            "parts": dict(rendered.parts),
            "warnings": preview_warnings(rendered),
        }
        return Response(self.OutputSerializer(preview).data)
