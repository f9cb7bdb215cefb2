"""Steps 1 to 3 of a trigger call's checks: the body parses (400), matches the schema
(400, a pointer per bad field; 413 when too large), then the key and its scope (401, 403).

The body is checked before the key, so a malformed call gets the same answer with or
without one. A refused call writes and publishes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.scopes import EXECUTIONS_READ, EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.trigger_calls import (
    AUDIENCE,
    UNITARY,
    aep,
    assert_nothing_accepted,
    external,
    problem,
    unitary,
)

pytestmark = pytest.mark.django_db

BIG_CONTEXT = {"blob": "x" * (200 * 1024)}  # over 200 KB once serialised


def _raw(client: APIClient, body: str, path: str = UNITARY) -> Any:
    return client.generic("POST", path, body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        '{"requestId": "r-1", ',
        '{"requestId": "r-1", // a comment\n "campaignId": "x"}',
        '{"requestId": "r-1" /* a comment */}',
        "[1, 2",
        '{"a": NaN}',
        "\x00",
    ],
    ids=["truncated", "line-comment", "block-comment", "bad-array", "nan", "nul"],
)
@pytest.mark.parametrize("path", [UNITARY, AUDIENCE])
def test_a_body_that_is_not_json_is_a_400(api_client, published, body: str, path: str) -> None:
    response = _raw(api_client(EXECUTIONS_TRIGGER), body, path)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_json"
    assert response.json()["detail"].startswith("JSON parse error: ")
    assert_nothing_accepted(published)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        ('"call"', "Invalid data. Expected a dictionary, but got str."),
        ("null", "No data provided"),
    ],
    ids=["list", "string", "null"],
)
def test_a_body_that_is_not_an_object_is_a_400(
    api_client, published, body: str, detail: str
) -> None:
    response = _raw(api_client(EXECUTIONS_TRIGGER), body)

    assert response.status_code == 400
    assert response.json() == problem(400, "validation_error", detail, [("", detail)])
    assert_nothing_accepted(published)


def test_an_empty_body_names_every_required_field(api_client, published) -> None:
    response = _raw(api_client(EXECUTIONS_TRIGGER), "")

    required = "This field is required."
    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [("/requestId", required), ("/campaignId", required), ("/recipients", required)],
    )
    assert_nothing_accepted(published)


def test_a_body_that_is_not_json_is_a_415(api_client, published) -> None:
    response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, {"requestId": "r-1"})  # a form

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert_nothing_accepted(published)


def test_a_malformed_body_is_a_400_without_a_key_too(published) -> None:
    response = _raw(APIClient(), '{"requestId": // no\n}')

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert_nothing_accepted(published)


CAMPAIGN = "7b0e3a4e-1a52-4c4b-9d55-0a4d6f1f2a10"


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": "r-1", "campaignId": CAMPAIGN, "recipients": [aep()]}
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


SCHEMA_ERRORS = [
    ("missing-request-id", _body(requestId=None), "/requestId", "This field is required."),
    ("empty-request-id", _body(requestId=""), "/requestId", "This field may not be blank."),
    ("number-request-id", _body(requestId=42), "/requestId", "Not a valid string."),
    ("bad-campaign-id", _body(campaignId="nope"), "/campaignId", "Must be a valid UUID."),
    ("missing-campaign-id", _body(campaignId=None), "/campaignId", "This field is required."),
    ("missing-recipients", _body(recipients=None), "/recipients", "This field is required."),
    (
        "no-recipients",
        _body(recipients=[]),
        "/recipients",
        "Ensure this field has at least 1 elements.",
    ),
    (
        "recipients-not-a-list",
        _body(recipients={"type": "aep"}),
        "/recipients",
        'Expected a list of items but got type "dict".',
    ),
    (
        "bad-type",
        _body(recipients=[aep(type="robot")]),
        "/recipients/0/type",
        '"robot" is not a valid choice.',
    ),
    (
        "aep-without-namespace",
        _body(recipients=[{"type": "aep", "userId": "ana@example.com"}]),
        "/recipients/0/namespace",
        "Required for a recipient of type aep.",
    ),
    (
        "missing-user-id",
        _body(recipients=[{"type": "external"}]),
        "/recipients/0/userId",
        "This field is required.",
    ),
    (
        "number-user-id",
        _body(recipients=[{"type": "aep", "namespace": "email", "userId": 12345}]),
        "/recipients/0/userId",
        "Not a valid string.",
    ),
    (
        "profile-not-an-object",
        _body(recipients=[aep(profile=["a"])]),
        "/recipients/0/profile",
        'Expected a dictionary of items but got type "list".',
    ),
    (
        "context-not-an-object",
        _body(context="text"),
        "/context",
        'Expected a dictionary of items but got type "str".',
    ),
    (
        "unknown-field",
        _body(sendAt="now"),
        "/sendAt",
        "Unknown field.",
    ),
    (
        "unknown-recipient-field",
        _body(recipients=[external("x", channelData={"fax": "1"})]),
        "/recipients/0/channelData/fax",
        "Unknown field.",
    ),
    (
        "bad-platform",
        _body(
            recipients=[
                external(
                    "x", channelData={"pushInfo": {"appID": "a", "platform": "nokia", "token": "t"}}
                )
            ]
        ),
        "/recipients/0/channelData/pushInfo/platform",
        '"nokia" is not a valid choice.',
    ),
    (
        "recipient-context-too-large",
        _body(
            recipients=[external("a@example.com"), external("b@example.com", context=BIG_CONTEXT)]
        ),
        "/recipients/1/context",
        "The context is larger than 200 KB.",
    ),
    (
        "call-context-too-large",
        _body(context=BIG_CONTEXT),
        "/context",
        "The context is larger than 200 KB.",
    ),
    (
        "duplicate-user-id",
        _body(
            recipients=[external(f"u{i}@example.com") for i in range(3)]
            + [external("u1@example.com")]
        ),
        "/recipients/3/userId",
        "duplicate userId",
    ),
    (
        "101-recipients",
        _body(recipients=[external(f"u{i}@example.com") for i in range(101)]),
        "/recipients",
        "Ensure this field has no more than 100 elements.",
    ),
]


@pytest.mark.parametrize(
    ("body", "at", "detail"),
    [case[1:] for case in SCHEMA_ERRORS],
    ids=[case[0] for case in SCHEMA_ERRORS],
)
def test_a_body_that_breaks_the_schema_is_a_400_with_a_pointer(
    api_client, published, body: dict[str, Any], at: str, detail: str
) -> None:
    response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == problem(400, "validation_error", detail, [(at, detail)])
    assert_nothing_accepted(published)


def test_every_bad_field_is_named_at_once(api_client, published) -> None:
    body = {"campaignId": "nope", "recipients": [{"type": "aep", "userId": 7}]}

    response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, body, format="json")

    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [
            ("/requestId", "This field is required."),
            ("/campaignId", "Must be a valid UUID."),
            ("/recipients/0/userId", "Not a valid string."),
        ],
    )
    assert_nothing_accepted(published)


def test_unknown_fields_are_named_before_anything_else(api_client, published) -> None:
    body = {"campaignId": "nope", "recipients": [], "sendAt": "now", "priority": 1}

    response = api_client(EXECUTIONS_TRIGGER).post(UNITARY, body, format="json")

    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [("/priority", "Unknown field."), ("/sendAt", "Unknown field.")],
    )
    assert_nothing_accepted(published)


def test_a_body_that_breaks_the_schema_is_a_400_without_a_key_too(published) -> None:
    response = APIClient().post(UNITARY, _body(requestId=None), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert_nothing_accepted(published)


def test_a_body_over_1_mb_is_a_413(api_client, published) -> None:
    body = json.dumps(_body(padding="x" * (1024 * 1024)))

    response = _raw(api_client(EXECUTIONS_TRIGGER), body)

    assert response.status_code == 413
    assert response.json() == problem(
        413, "payload_too_large", "The request body is larger than 1 MB."
    )
    assert_nothing_accepted(published)


def test_the_audience_body_is_checked_too(api_client, published) -> None:
    body = {
        "campaignId": CAMPAIGN,
        "audience": {"id": "x"},
        "schedule": {"executeAt": "2030-01-01T09:00:00"},
        "context": [],
    }

    response = api_client(EXECUTIONS_TRIGGER).post(AUDIENCE, body, format="json")

    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [
            ("/audience/id", "Must be a valid UUID."),
            ("/context", 'Expected a dictionary of items but got type "list".'),
            ("/schedule/executeAt", "Give a time zone, e.g. 2026-12-01T09:00:00Z."),
        ],
    )
    assert_nothing_accepted(published)


# --- Step 3: the key and its scope ---------------------------------------------------


def test_a_call_without_a_key_is_a_401(live_campaign, published) -> None:
    campaign = live_campaign()

    response = APIClient().post(UNITARY, unitary(campaign), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "not_authenticated"
    assert_nothing_accepted(published)


@pytest.mark.parametrize("secret", ["clr_0000_unknown", "not-even-a-key"])
def test_a_call_with_an_unknown_key_is_a_401(live_campaign, published, secret: str) -> None:
    campaign = live_campaign()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.post(UNITARY, unitary(campaign), format="json")

    assert response.status_code == 401
    assert response.json() == problem(
        401, "invalid_api_key", "The API key is not valid or was revoked."
    )
    assert_nothing_accepted(published)


@pytest.mark.parametrize("path", [UNITARY, AUDIENCE])
def test_a_key_without_the_trigger_scope_is_a_403(
    api_client, live_campaign, published, path: str
) -> None:
    campaign = live_campaign()

    response = api_client(EXECUTIONS_READ, "campaigns:read").post(
        path,
        unitary(campaign) if path == UNITARY else {"campaignId": str(campaign.pk)},
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == problem(
        403, "missing_scope", "This API key lacks the scope “executions:trigger”."
    )
    assert_nothing_accepted(published)


def test_100_recipients_are_accepted(
    api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign()
    recipients = [external(f"u{i}@example.com", namespace="email") for i in range(100)]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(EXECUTIONS_TRIGGER).post(
            UNITARY, unitary(campaign, *recipients), format="json"
        )

    assert response.status_code == 202, response.content
    assert len(response.json()["recipients"]) == 100
    assert Execution.objects.get().targeted_count == 100
    assert Message.objects.count() == 100
    assert sorted(len(batch) for batch in published) == [50, 50]
