"""Shapes of the management API: the campaign document, in and out.

Input serializers check shape and JSON types only (strictly: ``"5"`` is not a
number, ``1`` is not a string) and reject unknown fields, so a typo is an
error rather than silently ignored. References and meaning (known channel
configuration, locale syntax, template syntax, limits) are the services' job.

What a serializer checks is exactly what the OpenAPI document declares, so a
request the document allows never gets a 400 (docs/api.md, "Errors").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import (
    OpenApiSerializerFieldExtension,
)
from rest_framework import serializers
from rest_framework.fields import empty

from campaigns.limits import (
    MAX_LOCALES_PER_CAMPAIGN,
    NAME_MAX_LENGTH,
    THROTTLE_MAX_PER_SECOND,
    THROTTLE_MIN_PER_SECOND,
)
from campaigns.models import Campaign, CampaignContent, Category, Status, Tag
from campaigns.snapshot import campaign_to_data
from core.api.fields import (
    ClosedSerializer,
    FullMatchRegexValidator,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)
from core.channels import Channel
from core.formats import iso_datetime

# Server-set fields a client may send back unchanged (GET, edit, PUT); ignored.
SERVER_FIELDS = frozenset(
    {"id", "status", "liveVersion", "hasDraftVersion", "createdAt", "updatedAt"}
)


# Tag names (campaigns.models.Tag): letters, digits and _ . : -, at most 64.
TAG_NAME_LENGTH = Tag._meta.get_field("name").max_length or 64
tag_name = FullMatchRegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
    _("Use letters, digits and _ . : - (at most 64 characters)."),
)


class TrackingSerializer(ClosedSerializer):
    """Open and click tracking."""

    opens = StrictBooleanField(default=True)
    clicks = StrictBooleanField(default=True)


class ThrottleSerializer(ClosedSerializer):
    """Sending rate limit."""

    ratePerSecond = StrictIntegerField(
        allow_null=True,
        default=None,
        min_value=THROTTLE_MIN_PER_SECOND,
        max_value=THROTTLE_MAX_PER_SECOND,
        help_text=_("Messages per second, 1 to 2000; null sends as fast as possible."),
    )


class AudienceSerializer(ClosedSerializer):
    """Who the campaign is for and how recipients are named."""

    identityNamespace = StrictCharField(
        default="email",
        max_length=64,  # IdentityNamespace.code
        help_text=_("email, phone, crm_id, ecid or a custom namespace code."),
    )
    createNewProfiles = StrictBooleanField(default=False)
    audienceId = serializers.UUIDField(allow_null=True, default=None)


class ScheduleSerializer(ClosedSerializer):
    """Optional sending window; calls outside it are refused."""

    startAt = serializers.DateTimeField(allow_null=True, default=None)
    endAt = serializers.DateTimeField(allow_null=True, default=None)


def _part(model_field: str) -> StrictCharField:
    # The model's column limit, so a part that fits the schema fits the table.
    field = CampaignContent._meta.get_field(model_field)
    max_length = field.max_length if isinstance(field, models.Field) else None
    return StrictCharField(required=False, allow_blank=True, max_length=max_length)


class ContentPartsSerializer(ClosedSerializer):
    """One locale's content. Which parts a campaign takes depends on its channel."""

    subject = _part("subject")
    preheader = _part("preheader")
    html = _part("html")
    text = _part("text")
    body = _part("body")
    title = _part("title")
    deepLink = _part("deep_link")
    imageUrl = _part("image_url")


class ContentField(serializers.DictField):
    """Content per locale: at most ``MAX_LOCALES_PER_CAMPAIGN`` locales."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and len(data) > MAX_LOCALES_PER_CAMPAIGN:
            raise serializers.ValidationError(
                _("At most %(max)d locales per campaign; this has %(n)d.")
                % {"max": MAX_LOCALES_PER_CAMPAIGN, "n": len(data)}
            )
        return super().to_internal_value(data)


class ContentFieldSchema(OpenApiSerializerFieldExtension):
    """Declares the locale limit (``maxProperties``) that ContentField enforces."""

    target_class = ContentField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            schema["maxProperties"] = MAX_LOCALES_PER_CAMPAIGN
        return schema


def _content_field(**kwargs: Any) -> ContentField:
    return ContentField(
        child=ContentPartsSerializer(),
        help_text=_(
            "Per-locale content: email {subject, preheader, html, text}; SMS {body}; "
            "push {title, body, deepLink, imageUrl}."
        ),
        **kwargs,
    )


class CampaignDocumentInputSerializer(ClosedSerializer):
    """The campaign document: omitted fields take their defaults on POST, stay as they are on PATCH."""

    # PATCH validates with ``partial=True``; PUT uses CampaignReplaceInputSerializer.

    ignored_fields = SERVER_FIELDS

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    description = StrictCharField(allow_blank=True, default="")
    tags = serializers.ListField(
        child=StrictCharField(max_length=TAG_NAME_LENGTH, validators=[tag_name]), default=list
    )
    accessLabels = serializers.ListField(
        child=StrictCharField(max_length=64),  # AccessLabel.name; unknown ones are a 422
        default=list,
    )
    category = serializers.ChoiceField(choices=Category.choices, default=Category.TRANSACTIONAL)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.EMAIL)
    channelConfiguration = serializers.UUIDField(allow_null=True, default=None)
    tracking = TrackingSerializer(default=lambda: {"opens": True, "clicks": True})
    throttle = ThrottleSerializer(default=lambda: {"ratePerSecond": None})
    audience = AudienceSerializer(
        default=lambda: {
            "identityNamespace": "email",
            "createNewProfiles": False,
            "audienceId": None,
        }
    )
    schedule = ScheduleSerializer(default=lambda: {"startAt": None, "endAt": None})
    defaultLocale = StrictCharField(
        default="en",
        max_length=Campaign._meta.get_field("default_locale").max_length,
        help_text=_("A locale such as en, fr-CA or zh-Hant-TW (a 422 otherwise)."),
    )
    localeAttribute = StrictCharField(
        allow_blank=True,
        default="",
        max_length=Campaign._meta.get_field("locale_attribute").max_length,
    )
    content = _content_field(default=dict)


class EveryFieldRequired(serializers.Serializer):
    # Mixin for PUT, which replaces the whole document (RFC 9110 §9.3.4): every field is
    # required and none has a default, so an omitted field is a 400 with its pointer and
    # never a silent reset (an omitted ``accessLabels`` used to lift a restriction).

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = True
            field.default = empty
        return fields


class TrackingReplaceSerializer(EveryFieldRequired, TrackingSerializer):
    class Meta:
        ref_name = "TrackingReplace"


class ThrottleReplaceSerializer(EveryFieldRequired, ThrottleSerializer):
    class Meta:
        ref_name = "ThrottleReplace"


class AudienceReplaceSerializer(EveryFieldRequired, AudienceSerializer):
    class Meta:
        ref_name = "AudienceReplace"


class ScheduleReplaceSerializer(EveryFieldRequired, ScheduleSerializer):
    class Meta:
        ref_name = "ScheduleReplace"


class CampaignReplaceInputSerializer(EveryFieldRequired, CampaignDocumentInputSerializer):
    """The whole campaign document, as ``PUT`` takes it: every field, nested ones too."""

    tracking = TrackingReplaceSerializer()
    throttle = ThrottleReplaceSerializer()
    audience = AudienceReplaceSerializer()
    schedule = ScheduleReplaceSerializer()

    class Meta:
        ref_name = "CampaignReplaceInput"


class VersionRefSerializer(serializers.Serializer):
    """The live version: its id and number."""

    id = serializers.UUIDField()
    number = serializers.IntegerField()


class CampaignOutputSerializer(serializers.Serializer):
    """A campaign as the API returns it: the document plus server-set fields."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    liveVersion = VersionRefSerializer(allow_null=True)
    hasDraftVersion = serializers.BooleanField()
    name = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    accessLabels = serializers.ListField(child=serializers.CharField())
    category = serializers.ChoiceField(choices=Category.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    channelConfiguration = serializers.UUIDField(allow_null=True)
    tracking = TrackingSerializer()
    throttle = ThrottleSerializer()
    audience = AudienceSerializer()
    schedule = ScheduleSerializer()
    defaultLocale = serializers.CharField()
    localeAttribute = serializers.CharField()
    content = _content_field()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()

    class Meta:
        ref_name = "Campaign"


def campaign_document(campaign: Campaign) -> dict[str, Any]:
    """The campaign as the API returns it (``campaign_to_data`` plus server fields)."""
    version = campaign.live_version
    return {
        "id": str(campaign.pk),
        "status": campaign.status,
        "liveVersion": {"id": str(version.pk), "number": version.number} if version else None,
        "hasDraftVersion": campaign.has_draft_version,
        **campaign_to_data(campaign),
        "createdAt": iso_datetime(campaign.created_at),
        "updatedAt": iso_datetime(campaign.updated_at),
    }


def campaign_output(campaign: Campaign) -> dict[str, Any]:
    data: dict[str, Any] = CampaignOutputSerializer(campaign_document(campaign)).data
    return data
