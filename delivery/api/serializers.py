"""The trigger API's shapes: the reference product's payload, field for field.

Input serializers check JSON types, required fields and sizes (400, a pointer
per bad field) and build the ``delivery.calls`` values the services take.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import serializers

from core.api.fields import (
    ClosedSerializer,
    ClosedSerializerSchema,
    StrictCharField,
    StrictObjectField,
)
from core.channels import Platform
from delivery.calls import AudienceCall, PushTarget, TriggerRecipient, UnitaryCall
from delivery.limits import (
    MAX_CONTEXT_BYTES,
    MAX_RECIPIENTS_PER_CALL,
    MAX_REQUEST_ID_LENGTH,
    MAX_USER_ID_LENGTH,
)
from delivery.models import (
    ExecutionKind,
    ExecutionSchedule,
    ExecutionStatus,
    MessageStatus,
    RecipientType,
)

# Accepted for compatibility with the reference product's payloads, and ignored.
REFERENCE_IGNORED = frozenset({"mergePolicyName", "mergePolicySchema"})


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


class ContextField(StrictObjectField):
    """``context``: any JSON object, at most 200 KB."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if json_size(value) > MAX_CONTEXT_BYTES:
            raise serializers.ValidationError(
                _("The context is larger than %d KB.") % (MAX_CONTEXT_BYTES // 1024)
            )
        return value


class PushInfoSerializer(ClosedSerializer):
    appID = StrictCharField(max_length=200, help_text=_lazy("The app's id, as registered."))
    platform = serializers.ChoiceField(choices=Platform.choices)
    token = StrictCharField(
        max_length=4096, help_text=_lazy("FCM/APNs token, or the Web Push endpoint.")
    )

    class Meta:
        ref_name = "TriggerPushInfo"


class ChannelDataSerializer(ClosedSerializer):
    """Overrides the recipient's address for this message."""

    emailAddress = StrictCharField(required=False, max_length=320)
    mobilePhoneNumber = StrictCharField(required=False, max_length=40)
    pushInfo = PushInfoSerializer(required=False)

    class Meta:
        ref_name = "TriggerChannelData"


class ReferencePayloadSerializer(ClosedSerializer):
    # An object of the reference product's payload: its merge-policy fields are
    # accepted and ignored. (A comment: a docstring would describe every subclass.)

    ignored_fields = REFERENCE_IGNORED
    # What validate() checks beyond the fields, said in the schema (JSON Schema anyOf).
    schema_any_of: list[dict[str, Any]] = []


class ReferencePayloadSchema(ClosedSerializerSchema):
    """The schema of a ``ReferencePayloadSerializer``: closed, with the ignored fields
    described as such and its ``schema_any_of`` (a request it allows is never a 400)."""

    target_class = ReferencePayloadSerializer
    match_subclasses = True
    priority = 1  # over ClosedSerializerSchema, whose work this one extends

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = super().map_serializer(auto_schema, direction)
        if direction == "request":
            for name in sorted(self.target.ignored_fields):
                schema["properties"][name] = {
                    "description": str(
                        _lazy("Accepted for compatibility with the reference product; ignored.")
                    )
                }
            if self.target.schema_any_of:
                schema["anyOf"] = self.target.schema_any_of
        return schema


class RecipientSerializer(ReferencePayloadSerializer):
    # An aep recipient needs a namespace (validate); a pattern rather than an enum, which
    # drf-spectacular would merge into the field's enum component.
    schema_any_of = [
        {"properties": {"type": {"type": "string", "pattern": "^external$"}}},
        {"required": ["namespace"]},
    ]

    type = serializers.ChoiceField(
        choices=RecipientType.choices,
        help_text=_lazy(
            "aep: a profile, found by namespace and userId (created when the campaign allows "
            "it). external: no profile; the address comes from channelData or userId."
        ),
    )
    namespace = StrictCharField(
        required=False,
        max_length=64,
        help_text=_lazy("The campaign's identity namespace; required for type aep."),
    )
    userId = StrictCharField(min_length=1, max_length=MAX_USER_ID_LENGTH)
    channelData = ChannelDataSerializer(required=False)
    profile = StrictObjectField(
        required=False,
        help_text=_lazy("Fills {{ profile.* }} for this message, over the stored profile."),
    )
    context = ContextField(
        required=False,
        help_text=_lazy("Fills {{ context.* }}; wins over the call's context. At most 200 KB."),
    )  # type: ignore[assignment]

    class Meta:
        ref_name = "TriggerRecipient"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["type"] == RecipientType.AEP and not attrs.get("namespace"):
            raise serializers.ValidationError(
                {"namespace": [_("Required for a recipient of type aep.")]}
            )
        return attrs


class UnitaryInputSerializer(ReferencePayloadSerializer):
    requestId = StrictCharField(
        min_length=1,
        max_length=MAX_REQUEST_ID_LENGTH,
        help_text=_lazy(
            "Your id for this call; the idempotency key unless Idempotency-Key is sent."
        ),
    )
    campaignId = serializers.UUIDField(format="hex_verbose")
    recipients = serializers.ListField(
        child=RecipientSerializer(),
        min_length=1,
        max_length=MAX_RECIPIENTS_PER_CALL,
        help_text=_lazy("1 to 100 recipients, each userId once."),
    )
    context = ContextField(
        required=False, help_text=_lazy("Context every recipient gets. At most 200 KB.")
    )  # type: ignore[assignment]

    class Meta:
        ref_name = "UnitaryExecutionInput"

    def validate_recipients(self, recipients: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        errors: list[Any] = []
        for recipient in recipients:
            duplicate = recipient["userId"] in seen
            seen.add(recipient["userId"])
            errors.append({"userId": [_("duplicate userId")]} if duplicate else {})
        if any(errors):
            raise serializers.ValidationError(errors)
        return recipients

    def to_call(self) -> UnitaryCall:
        data = self.validated_data
        return UnitaryCall(
            campaign_id=data["campaignId"],
            request_id=data["requestId"],
            recipients=tuple(trigger_recipient(r) for r in data["recipients"]),
            context=data.get("context") or {},
        )


def trigger_recipient(data: Mapping[str, Any]) -> TriggerRecipient:
    channel_data = data.get("channelData") or {}
    push = channel_data.get("pushInfo")
    return TriggerRecipient(
        type=data["type"],
        user_id=data["userId"],
        namespace=data.get("namespace", ""),
        email_address=channel_data.get("emailAddress", ""),
        mobile_phone_number=channel_data.get("mobilePhoneNumber", ""),
        push=PushTarget(push["appID"], push["platform"], push["token"]) if push else None,
        profile=data.get("profile") or {},
        context=data.get("context") or {},
    )


class AudienceRefSerializer(ClosedSerializer):
    id = serializers.UUIDField(format="hex_verbose")

    class Meta:
        ref_name = "AudienceExecutionAudience"


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time with a UTC offset (RFC 3339, as the schema's ``date-time``).

    DRF would read a time without an offset in the server's time zone, so the moment
    a call names would depend on the server's settings.
    """

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:  # well formed, out of range: DRF's own message
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                raise serializers.ValidationError(_("Give a time zone, e.g. 2026-12-01T09:00:00Z."))
        return super().to_internal_value(value)


class ScheduleInputSerializer(ClosedSerializer):
    executeAt = AwareDateTimeField(
        help_text=_lazy("When to send (ISO 8601 with a time zone); in the past means now.")
    )

    class Meta:
        ref_name = "AudienceExecutionSchedule"


class AudienceInputSerializer(ReferencePayloadSerializer):
    campaignId = serializers.UUIDField(format="hex_verbose")
    requestId = StrictCharField(required=False, min_length=1, max_length=MAX_REQUEST_ID_LENGTH)
    audience = AudienceRefSerializer(
        required=False, help_text=_lazy("Default: the campaign's audience.")
    )
    context = ContextField(required=False, help_text=_lazy("At most 200 KB."))  # type: ignore[assignment]
    schedule = ScheduleInputSerializer(required=False)

    class Meta:
        ref_name = "AudienceExecutionInput"

    def to_call(self) -> AudienceCall:
        data = self.validated_data
        return AudienceCall(
            campaign_id=data["campaignId"],
            request_id=data.get("requestId", ""),
            audience_id=(data.get("audience") or {}).get("id"),
            context=data.get("context") or {},
            execute_at=(data.get("schedule") or {}).get("executeAt"),
        )


# --- Output ------------------------------------------------------------------------


class AcceptedRecipientSerializer(serializers.Serializer):
    userId = serializers.CharField()
    messageId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=MessageStatus.choices)

    class Meta:
        ref_name = "AcceptedRecipient"


class UnitaryAcceptedSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    requestId = serializers.CharField()
    campaignId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExecutionStatus.choices)
    recipients = AcceptedRecipientSerializer(many=True)
    createdAt = serializers.DateTimeField()

    class Meta:
        ref_name = "UnitaryExecutionAccepted"


class AudienceAcceptedSerializer(serializers.Serializer):
    executionId = serializers.UUIDField(required=False, help_text=_lazy("When it runs now."))
    scheduleId = serializers.UUIDField(required=False, help_text=_lazy("When scheduled."))
    executeAt = serializers.DateTimeField(required=False)
    requestId = serializers.CharField()
    campaignId = serializers.UUIDField()
    status = serializers.CharField(help_text=_lazy("queued, or scheduled."))
    createdAt = serializers.DateTimeField()

    class Meta:
        ref_name = "AudienceExecutionAccepted"


class CountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    excluded = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text=_lazy("Sent, and the provider confirmed it."))
    bounced = serializers.IntegerField(help_text=_lazy("Sent, then bounced (hard)."))
    complained = serializers.IntegerField(
        help_text=_lazy("Delivered, then marked as spam by the recipient.")
    )

    class Meta:
        ref_name = "ExecutionCounts"


class ExecutionRecipientSerializer(serializers.Serializer):
    userId = serializers.CharField()
    messageId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    reason = serializers.CharField(help_text=_lazy("Why it failed or was excluded; else empty."))

    class Meta:
        ref_name = "ExecutionRecipient"


class ExecutionOutputSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ExecutionKind.choices)
    campaignId = serializers.UUIDField()
    versionId = serializers.UUIDField()
    requestId = serializers.CharField()
    status = serializers.ChoiceField(choices=ExecutionStatus.choices)
    targetedProfileCount = serializers.IntegerField()
    counts = CountsSerializer()
    recipients = ExecutionRecipientSerializer(
        many=True, required=False, help_text=_lazy("Unitary executions only.")
    )
    scheduleId = serializers.UUIDField(allow_null=True)
    error = serializers.CharField()
    createdAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True)
    finishedAt = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Execution"


class ScheduleOutputSerializer(serializers.Serializer):
    scheduleId = serializers.UUIDField()
    campaignId = serializers.UUIDField()
    requestId = serializers.CharField()
    audienceId = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=ExecutionSchedule.Status.choices)
    executeAt = serializers.DateTimeField()
    executionId = serializers.UUIDField(allow_null=True)
    error = serializers.CharField()
    createdAt = serializers.DateTimeField()

    class Meta:
        ref_name = "ExecutionScheduleOutput"
