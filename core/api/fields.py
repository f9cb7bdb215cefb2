"""Strict JSON fields and closed serializers for every API input.

DRF's fields coerce (``"5"`` becomes 5, ``1`` becomes ``"1"``); these take
only the JSON type they name, and ``ClosedSerializer`` rejects fields it does
not declare, so a typo is an error rather than silently ignored. The schema
extensions below make the OpenAPI document say exactly what these check: a
request the document allows never gets a 400 (docs/api.md, "Errors").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers


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
