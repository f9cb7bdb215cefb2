"""Strict JSON fields and closed serializers for every API input.

DRF's fields coerce (``"5"`` becomes 5, ``1`` becomes ``"1"``); these take
only the JSON type they name, and ``ClosedSerializer`` rejects fields it does
not declare, so a typo is an error rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string; DRF's CharField would also take numbers and booleans."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


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
