"""The OpenAPI document says what each profile and audience operation's problems mean."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/profiles/{namespace}/{value}"
BATCH = "/api/v1/profiles:batch"
GENERAL_400 = (
    "The request does not match this document: malformed JSON, a wrong type, an unknown "
    "field, a value outside the declared limits (a pointer per field)."
)
IDENTITY_422 = (
    "The request matches this document but its values are not acceptable: an invalid "
    "identity value (pointer /identity/value), locale or time zone (a pointer per field)."
)
NO_PROFILE_404 = (
    "No profile has this identity (code not_found), or the namespace is unknown "
    "(code unknown_namespace)."
)
KEY_401 = "Missing or invalid API key."
SCOPE_403 = "The API key lacks the scope, or the user the permission."


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", stdout=out)
    loaded: dict[str, Any] = yaml.safe_load(out.getvalue())
    return loaded


def problem_meanings(schema: dict[str, Any], path: str, method: str) -> dict[str, str]:
    responses = schema["paths"][path][method]["responses"]
    return {
        status: response["description"]
        for status, response in responses.items()
        if "application/problem+json" in response.get("content", {})
    }


def test_get_and_delete_name_the_identity_problems(schema: dict[str, Any]) -> None:
    expected = {"401": KEY_401, "403": SCOPE_403, "404": NO_PROFILE_404, "422": IDENTITY_422}

    assert problem_meanings(schema, DETAIL, "get") == expected
    assert problem_meanings(schema, DETAIL, "delete") == expected


def test_put_names_the_unknown_namespace_and_the_identity_conflict(schema: dict[str, Any]) -> None:
    assert problem_meanings(schema, DETAIL, "put") == {
        "401": KEY_401,
        "403": SCOPE_403,
        "400": GENERAL_400,
        "404": "The namespace is unknown (code unknown_namespace).",
        "409": "The identities given belong to different profiles (code identity_conflict).",
        "413": "The body is larger than 1 MB.",
        "415": "The body is not application/json.",
        "422": IDENTITY_422,
    }


def test_batch_problems_are_the_general_ones(schema: dict[str, Any]) -> None:
    # A bad identity inside a batch rejects that item in the 200 results; only the
    # envelope can make the whole call a 400.
    assert problem_meanings(schema, BATCH, "post") == {
        "401": KEY_401,
        "403": SCOPE_403,
        "400": GENERAL_400,
        "413": "The body is larger than 1 MB.",
        "415": "The body is not application/json.",
    }


def test_adding_members_names_the_rule_based_audience_conflict(schema: dict[str, Any]) -> None:
    assert problem_meanings(schema, "/api/v1/audiences/{audience_id}/members", "post") == {
        "401": KEY_401,
        "403": SCOPE_403,
        "400": GENERAL_400,
        "404": "No such resource, or hidden by access labels.",
        "409": "The audience is rule-based: its members follow its rules "
        "(code audience_not_static).",
        "413": "The body is larger than 1 MB.",
        "415": "The body is not application/json.",
    }
