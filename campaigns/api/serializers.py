"""Shapes of the management API: the campaign document, in and out, and problems.

Input serializers check shape and JSON types only (strictly: ``"5"`` is not a
number, ``1`` is not a string) and reject unknown fields, so a typo is an
error rather than silently ignored. References and meaning (known channel
configuration, locale syntax, template syntax, limits) are the services' job.

What a serializer checks is exactly what the OpenAPI document declares, so a
request the document allows never gets a 400 (docs/api.md, "Errors").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from rest_framework import serializers

from campaigns.limits import (
    MAX_LOCALES_PER_CAMPAIGN,
    NAME_MAX_LENGTH,
    THROTTLE_MAX_PER_SECOND,
    THROTTLE_MIN_PER_SECOND,
)
from campaigns.models import Campaign, CampaignContent, Category, Channel, Status, Tag
from campaigns.snapshot import campaign_to_data
from config.formats import iso_datetime

# Server-set fields a client may send back unchanged (GET, edit, PUT); ignored.
SERVER_FIELDS = frozenset(
    {"id", "status", "liveVersion", "hasDraftVersion", "createdAt", "updatedAt"}
)


class StrictCharField(serializers.CharField):
    """A JSON string, taken as sent; DRF's CharField would also take numbers and booleans.

    Not trimmed: DRF would check the length of the trimmed string and refuse
    ``" "`` as blank, while the schema's ``minLength``/``maxLength`` count what
    was sent. Services normalise where it means something (names, identities).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Request strings hold no NUL (DRF's CharField refuses it: PostgreSQL cannot
# store it in text). "+" rather than "*": drf-spectacular offers blank-allowed
# fields as oneOf [this pattern, maxLength 0], and "" must match only one.
NO_NUL_PATTERN = r"^[^\u0000]+$"


class CharFieldSchema(OpenApiSerializerFieldExtension):
    """Declares that request strings hold no NUL character (a field's own pattern wins)."""

    target_class = serializers.CharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        has_own_pattern = any(isinstance(v, RegexValidator) for v in self.target.validators)
        if direction == "request" and schema.get("type") == "string" and not has_own_pattern:
            schema["pattern"] = NO_NUL_PATTERN
        return schema


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean; DRF's BooleanField would also take "yes", 1, "on"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer; DRF's IntegerField would also take "5" and 5.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictObjectField(serializers.DictField):
    """A JSON object of any values (preview profile and context)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.fail("not_a_dict", input_type=type(data).__name__)
        return dict(data)


class ClosedSerializer(serializers.Serializer):
    # Rejects fields it does not declare, with a pointer to each. (A comment, not a
    # docstring: the schema would show it as every subclass's description.)

    ignored_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(
                str(key)
                for key in data
                if key not in self.fields and key not in self.ignored_fields
            )
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class ClosedSerializerSchema(OpenApiSerializerExtension):
    """Declares a ClosedSerializer as a closed object (``additionalProperties: false``).

    The server-set fields a request may carry back (``ignored_fields``) are
    declared too, as any value, since they are accepted and ignored.
    """

    target_class = ClosedSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            for name in sorted(self.target.ignored_fields):
                schema["properties"].setdefault(
                    name, {"description": str(_("Set by the server; ignored when sent."))}
                )
        schema["additionalProperties"] = False
        return schema


class FullMatchRegexValidator(RegexValidator):
    """A RegexValidator whose pattern must match the whole string.

    Python's ``$`` also matches before a final newline, so ``"vip\n"`` would
    pass ``^[a-z]+$`` here while failing the same pattern in the schema
    (ECMAScript). The schema shows the pattern as written.
    """

    def __call__(self, value: Any) -> None:
        if not re.fullmatch(self.regex, str(value)):
            raise DjangoValidationError(self.message, code=self.code, params={"value": value})


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
    """The campaign document a client sends. Omitted fields take their defaults.

    Used with ``partial=True`` for PATCH, where omitted fields stay unchanged.
    """

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
