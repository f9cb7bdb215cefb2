"""Channel configurations (read-only here; administrators define them in the admin)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.access import READ_CHANNEL_CONFIGURATIONS
from campaigns.api.common import CHANNEL_CONFIGURATION_ID, channel_configuration_or_404
from campaigns.models import ChannelConfiguration
from campaigns.selectors import channel_configuration_list
from core.api.pagination import PageQuerySerializer, page_serializer, paginate
from core.api.schema import problems
from core.channels import Channel


class ChannelConfigurationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    isActive = serializers.BooleanField(source="is_active")
    settings = serializers.SerializerMethodField(
        help_text=_(
            "email: fromName, fromEmail, replyTo, trackingDomain; sms: sender, provider; "
            "push: appId, platform, provider, appSchemes (app URI schemes links may use "
            "besides https:)."
        )
    )

    class Meta:
        ref_name = "ChannelConfiguration"

    def get_settings(self, configuration: ChannelConfiguration) -> dict[str, Any]:
        return configuration.summary()


def _output(configuration: ChannelConfiguration) -> dict[str, Any]:
    data: dict[str, Any] = ChannelConfigurationOutputSerializer(configuration).data
    return data


class ChannelConfigurationListApi(APIView):
    """Active channel configurations, optionally of one channel."""

    access = {"GET": READ_CHANNEL_CONFIGURATIONS}

    class FilterSerializer(PageQuerySerializer):
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)

        class Meta:
            ref_name = "ChannelConfigurationFilter"

    @extend_schema(
        operation_id="channel_configurations_list",
        summary="List active channel configurations",
        parameters=[FilterSerializer],
        responses={
            200: page_serializer(
                "ChannelConfiguration", ChannelConfigurationOutputSerializer(many=True)
            ),
            **problems(400),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query = filters.validated_data
        configurations = channel_configuration_list(channel=query.get("channel")).order_by(
            "channel", "name"
        )
        page = paginate(
            request, configurations, limit=query["limit"], offset=query["offset"], render=_output
        )
        return Response(page)


class ChannelConfigurationDetailApi(APIView):
    access = {"GET": READ_CHANNEL_CONFIGURATIONS}

    @extend_schema(
        operation_id="channel_configurations_retrieve",
        summary="Get a channel configuration",
        parameters=[CHANNEL_CONFIGURATION_ID],
        responses={200: ChannelConfigurationOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, configuration_id: str) -> Response:
        return Response(_output(channel_configuration_or_404(configuration_id)))
