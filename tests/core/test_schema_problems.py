"""core.api.schema.problems(): one helper for every operation's problem responses."""

from __future__ import annotations

import pytest

from core.api.problems import PROBLEM_CONTENT_TYPE
from core.api.schema import ProblemSerializer, problems


def _meanings(responses: dict[object, object]) -> dict[object, str]:
    return {key: str(response.description) for key, response in responses.items()}  # type: ignore[attr-defined]


def test_every_operation_lists_401_and_403_then_its_own_statuses_with_their_meaning() -> None:
    responses = problems(404)

    assert _meanings(responses) == {
        (401, PROBLEM_CONTENT_TYPE): "Missing or invalid API key.",
        (403, PROBLEM_CONTENT_TYPE): "The API key lacks the scope, or the user the permission.",
        (404, PROBLEM_CONTENT_TYPE): "No such resource, or hidden by access labels.",
    }
    assert {response.response for response in responses.values()} == {ProblemSerializer}


def test_an_operation_can_say_more_about_one_status() -> None:
    responses = problems(400, 404, descriptions={404: "No profile has this identity."})

    assert _meanings(responses) == {
        (401, PROBLEM_CONTENT_TYPE): "Missing or invalid API key.",
        (403, PROBLEM_CONTENT_TYPE): "The API key lacks the scope, or the user the permission.",
        (400, PROBLEM_CONTENT_TYPE): "The request does not match this document: malformed "
        "JSON, a wrong type, an unknown field, a value outside the declared limits (a pointer "
        "per field).",
        (404, PROBLEM_CONTENT_TYPE): "No profile has this identity.",
    }


def test_describing_a_status_the_operation_does_not_list_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[409\]"):
        problems(400, descriptions={409: "Conflict."})
