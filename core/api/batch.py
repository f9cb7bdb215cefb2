"""Per-item results of a batch call: each item is accepted or rejected on its own.

A batch answers 200 with one result per item, in input order: ``{"index",
"status", ...}``. A rejected item has ``"status": "rejected"``, a stable
``code`` and its ``errors``, each pointer from the body's root
(``/profiles/3/locale``), so a client can fix and resend only those items. The
profiles batch uses these pieces; the trigger and delivery APIs are meant to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.errors import ClarionError, FieldError

REJECTED = "rejected"


def item_errors_under(prefix: str, error: ClarionError) -> list[FieldError]:
    """``error``'s field errors with pointers from the body's root, under the item's ``prefix``.

    Errors of parsing already point under the item (they were parsed with the
    prefix); errors of the services (e.g. identity_conflict) point from the
    item's root and get the prefix; an error without fields points at the item.
    """
    return [
        e if e.pointer.startswith(prefix + "/") else FieldError(prefix + e.pointer, e.detail)
        for e in error.errors
    ] or [FieldError(prefix, error.message)]


def item_rejected(index: int, code: str, errors: Iterable[FieldError]) -> dict[str, Any]:
    """The result of item ``index`` when it is rejected with ``code`` for these errors."""
    return {
        "index": index,
        "status": REJECTED,
        "code": code,
        "errors": [{"pointer": e.pointer, "detail": e.detail} for e in errors],
    }


def item_rejected_by(index: int, prefix: str, error: ClarionError) -> dict[str, Any]:
    """The result of item ``index`` (at pointer ``prefix``) when ``error`` rejects it."""
    return item_rejected(index, error.code, item_errors_under(prefix, error))


class BatchItemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text=_("JSON pointer from the body's root."))
    detail = serializers.CharField()

    class Meta:
        ref_name = "BatchItemError"


class BatchItemResultSerializer(serializers.Serializer):
    # The fields every batch's result has; a batch's own subclass adds its outcomes to
    # ``status`` and adds what an accepted item returns (e.g. ``profile``). A comment,
    # not a docstring: the schema would show it as every subclass's description.

    index = serializers.IntegerField(help_text=_("The item's position in the request, from 0."))
    status = serializers.ChoiceField(choices=[REJECTED])
    code = serializers.CharField(required=False, help_text=_("When rejected: why, as a code."))
    errors = BatchItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
