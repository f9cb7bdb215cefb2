"""core.errors: the one constructor for "this field is wrong" and "some fields are not valid"."""

from __future__ import annotations

from core.errors import FieldError, InvalidInput, errors_summary, invalid_input


def test_one_error_is_its_own_summary() -> None:
    errors = [FieldError("/name", "Name is required.")]

    assert errors_summary(errors) == "Name is required."


def test_several_errors_are_summarised_in_one_sentence() -> None:
    errors = [FieldError("/name", "Name is required."), FieldError("/kind", "Bad kind.")]

    assert errors_summary(errors) == "Some fields are not valid."


def test_invalid_input_carries_the_summary_the_code_and_every_error() -> None:
    errors = (FieldError("/a", "A is wrong."), FieldError("/b", "B is wrong."))

    error = invalid_input(errors, code="unknown_namespace")

    assert isinstance(error, InvalidInput)
    assert error.message == "Some fields are not valid."
    assert error.code == "unknown_namespace"
    assert error.status == 422  # values a service refuses
    assert error.errors == [FieldError("/a", "A is wrong."), FieldError("/b", "B is wrong.")]
    assert invalid_input(errors, status=400).status == 400  # a request off the document


def test_invalid_input_defaults_to_validation_error_with_the_single_detail() -> None:
    error = invalid_input([FieldError("/a", "A is wrong.")])

    assert (error.message, error.code, error.errors) == (
        "A is wrong.",
        "validation_error",
        [FieldError("/a", "A is wrong.")],
    )
