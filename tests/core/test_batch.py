"""core.api.batch: the per-item results every batch call answers with."""

from __future__ import annotations

from core.api.batch import (
    BatchItemResultSerializer,
    item_errors_under,
    item_rejected,
    item_rejected_by,
)
from core.errors import ClarionError, FieldError, InvalidInput


def test_errors_already_under_the_item_keep_their_pointer() -> None:
    error = InvalidInput(
        message="Some fields are not valid.",
        errors=[FieldError("/profiles/3/locale", "Bad locale."), FieldError("/x", "Bad x.")],
    )

    under = item_errors_under("/profiles/3", error)

    assert under == [
        FieldError("/profiles/3/locale", "Bad locale."),
        FieldError("/profiles/3/x", "Bad x."),
    ]


def test_a_pointer_that_only_starts_like_the_item_is_put_under_it() -> None:
    # "/profiles/30" is not under "/profiles/3": the check is on a whole token.
    error = InvalidInput(message="m", errors=[FieldError("/profiles/30", "Bad.")])

    assert item_errors_under("/profiles/3", error) == [
        FieldError("/profiles/3/profiles/30", "Bad.")
    ]


def test_an_error_without_fields_points_at_the_item_with_its_message() -> None:
    error = ClarionError(message="Something about the whole item.", code="conflict", status=409)

    assert item_errors_under("/profiles/0", error) == [
        FieldError("/profiles/0", "Something about the whole item.")
    ]


def test_a_rejected_item_has_its_index_code_and_errors() -> None:
    result = item_rejected(2, "validation_error", [FieldError("/profiles/2/value", "Required.")])

    assert result == {
        "index": 2,
        "status": "rejected",
        "code": "validation_error",
        "errors": [{"pointer": "/profiles/2/value", "detail": "Required."}],
    }


def test_rejected_by_an_error_takes_its_code_and_points_under_the_item() -> None:
    error = ClarionError(
        message="These identities belong to different profiles.",
        code="identity_conflict",
        status=409,
        errors=[FieldError("/identities", "Identities of 2 different profiles.")],
    )

    assert item_rejected_by(4, "/profiles/4", error) == {
        "index": 4,
        "status": "rejected",
        "code": "identity_conflict",
        "errors": [
            {"pointer": "/profiles/4/identities", "detail": "Identities of 2 different profiles."}
        ],
    }


def test_the_result_serializer_describes_a_rejected_item() -> None:
    result = item_rejected(
        0, "validation_error", [FieldError("/items/0", "Expected a JSON object.")]
    )

    serializer = BatchItemResultSerializer(data=result)

    assert serializer.is_valid(), serializer.errors
    assert serializer.data == result
