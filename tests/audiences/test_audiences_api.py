"""The audiences API: list, create, retrieve, estimate, add members; problems for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from audiences.models import Audience, AudienceMember
from tests.api.conftest import iso, problem
from tests.audiences.audience_helpers import make_people
from tests.conftest import ApiClientFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RULES = {
    "combinator": "and",
    "conditions": [{"field": "attributes.city", "operator": "in", "value": ["Paris", "Lyon"]}],
}


@pytest.fixture
def reader(api_client: ApiClientFactory) -> APIClient:
    return api_client("profiles:read")


@pytest.fixture
def writer(api_client: ApiClientFactory) -> APIClient:
    return api_client("profiles:read", "profiles:write")


def expected(audience: Audience) -> dict[str, Any]:
    audience.refresh_from_db()
    return {
        "id": str(audience.pk),
        "name": audience.name,
        "description": audience.description,
        "kind": audience.kind,
        "rules": audience.rules if audience.kind == "rules" else None,
        "createdAt": iso(audience.created_at),
        "updatedAt": iso(audience.updated_at),
    }


def test_create_a_rule_based_audience(writer: APIClient) -> None:
    # when
    response = writer.post(
        "/api/v1/audiences",
        {"name": "Cities", "description": "Big ones", "kind": "rules", "rules": RULES},
        format="json",
    )
    # then
    assert response.status_code == 201
    audience = Audience.objects.get()
    assert response.json() == expected(audience)
    assert audience.rules == RULES


def test_create_with_bad_rules_names_each_problem(writer: APIClient) -> None:
    rules = {
        "combinator": "and",
        "conditions": [
            {"field": "attributes.city", "operator": "equals", "value": "Paris"},
            {"field": "attributes.age", "operator": "around", "value": 3},
            {"field": "locale", "operator": "in", "value": "en"},
        ],
    }
    response = writer.post(
        "/api/v1/audiences", {"name": "Bad", "kind": "rules", "rules": rules}, format="json"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(
        422,
        "validation_error",
        "Some fields are not valid.",
        [
            {
                "pointer": "/rules/conditions/1/operator",
                "detail": "“around” is not an operator (use one of: equals, not_equals, contains, "
                "in, exists, not_exists, greater_than, less_than, before, after).",
            },
            {
                "pointer": "/rules/conditions/2/value",
                "detail": "“in” takes a non-empty list of values.",
            },
        ],
    )
    assert Audience.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        (
            {"name": "S", "kind": "static", "rules": RULES},
            422,
            [("/rules", "A static audience has no rules.")],
        ),
        (
            {"name": "R", "kind": "rules"},
            422,
            [("/rules", "A group must be an object with “combinator” and “conditions”.")],
        ),
        (
            {"name": "R", "kind": "rules", "rules": "x"},
            422,
            [("/rules", "A group must be an object with “combinator” and “conditions”.")],
        ),
        ({"kind": "rules", "rules": RULES}, 400, [("/name", "This field is required.")]),
        (
            {"name": 3, "kind": "odd"},
            400,
            [("/name", "Not a valid string."), ("/kind", '"odd" is not a valid choice.')],
        ),
    ],
)
def test_create_rejects_bad_input(
    writer: APIClient, body: dict[str, Any], status: int, errors: list[tuple[str, str]]
) -> None:
    # 400: the body does not match the schema; 422: it does, but the service refuses it.
    response = writer.post("/api/v1/audiences", body, format="json")
    assert response.status_code == status
    assert [(e["pointer"], e["detail"]) for e in response.json()["errors"]] == errors
    assert Audience.objects.count() == 0


def test_create_rejects_unknown_fields_with_a_pointer_each(writer: APIClient) -> None:
    response = writer.post(
        "/api/v1/audiences",
        {"name": "R", "kind": "rules", "rules": RULES, "rule": {}, "Description": "typo"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "validation_error",
        "Some fields are not valid.",
        [
            {"pointer": "/Description", "detail": "Unknown field."},
            {"pointer": "/rule", "detail": "Unknown field."},
        ],
    )
    assert Audience.objects.count() == 0


def test_create_refuses_a_condition_with_an_empty_value(writer: APIClient) -> None:
    rules = {
        "combinator": "or",
        "conditions": [
            {"field": "attributes.city", "operator": "equals", "value": "Paris"},
            {"field": "attributes.tier", "operator": "equals", "value": ""},
        ],
    }

    response = writer.post(
        "/api/v1/audiences", {"name": "R", "kind": "rules", "rules": rules}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "pointer": "/rules/conditions/1/value",
            "detail": "Give a value: an empty one would match nothing. For profiles without "
            "a value, use “does not exist”.",
        }
    ]
    assert Audience.objects.count() == 0


@pytest.mark.parametrize(
    ("rules", "pointer"),
    [
        (
            {
                "combinator": "and",
                "conditions": [{"field": "locale", "operator": "equals", "value": "f\u0000r"}],
            },
            "/rules/conditions/0/value",
        ),
        (
            {
                "combinator": "and",
                "conditions": [{"field": "locale", "operator": "in", "value": ["en", "f\u0000r"]}],
            },
            "/rules/conditions/0/value/1",
        ),
        ({"combinator": "and", "conditions": [], "x\u0000": 1}, "/rules/x\u0000"),
    ],
    ids=["value", "in-list", "key"],
)
def test_create_refuses_nul_in_rules_with_422_not_a_database_error(
    writer: APIClient, rules: dict[str, Any], pointer: str
) -> None:
    # PostgreSQL's jsonb (and text parameters) refuse NUL: it would be a 500 there.
    response = writer.post(
        "/api/v1/audiences", {"name": "N", "kind": "rules", "rules": rules}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": pointer, "detail": "Rules may not contain NUL characters."}
    ]
    assert Audience.objects.count() == 0


def test_create_rejects_a_taken_name(writer: APIClient) -> None:
    Audience.objects.create(name="Taken", kind="static")
    response = writer.post("/api/v1/audiences", {"name": "Taken", "kind": "static"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/name", "detail": "An audience named “Taken” exists."}
    ]


def test_create_needs_the_write_scope(reader: APIClient) -> None:
    response = reader.post("/api/v1/audiences", {"name": "S", "kind": "static"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert Audience.objects.count() == 0


def test_list_searches_by_name_and_paginates(reader: APIClient) -> None:
    for name in ("Gold buyers", "Paris", "Gold in Lyon"):
        Audience.objects.create(name=name, kind="static")
    response = reader.get("/api/v1/audiences?search=gold&limit=1")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [expected(Audience.objects.get(name="Gold buyers"))]
    assert body["next"] == "http://testserver/api/v1/audiences?limit=1&offset=1&search=gold"
    assert reader.get("/api/v1/audiences?limit=0").status_code == 400


def test_retrieve_and_404(reader: APIClient) -> None:
    audience = Audience.objects.create(name="R", kind="rules", rules=RULES)
    assert reader.get(f"/api/v1/audiences/{audience.pk}").json() == expected(audience)
    for bad in ("nope", "00000000-0000-0000-0000-000000000000"):
        response = reader.get(f"/api/v1/audiences/{bad}")
        assert response.status_code == 404
        assert response.json() == problem(404, "not_found", f"No audience has the id “{bad}”.")


def test_estimate(reader: APIClient) -> None:
    make_people()
    audience = Audience.objects.create(name="R", kind="rules", rules=RULES)
    response = reader.get(f"/api/v1/audiences/{audience.pk}/estimate")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"audienceId", "estimatedSize", "computedAt"}
    assert body["audienceId"] == str(audience.pk)
    assert body["estimatedSize"] == 2  # ana (Paris), cy (Lyon)


def test_estimate_needs_a_key(db: None) -> None:
    audience = Audience.objects.create(name="R", kind="rules", rules=RULES)
    assert APIClient().get(f"/api/v1/audiences/{audience.pk}/estimate").status_code == 401


def test_add_members_by_identity(writer: APIClient) -> None:
    # given
    people = make_people()
    audience = Audience.objects.create(name="S", kind="static")
    AudienceMember.objects.create(audience=audience, profile=people["ben"])
    # when
    response = writer.post(
        f"/api/v1/audiences/{audience.pk}/members",
        {
            "identities": [
                {"namespace": "email", "value": " ANA@example.com"},
                {"namespace": "email", "value": "ben@example.com"},
                {"namespace": "email", "value": "zed@example.com"},
                {"namespace": "crm_id", "value": "C-2"},
                {"namespace": "email", "value": "not an email"},
                {"namespace": "loyalty", "value": "7"},
            ]
        },
        format="json",
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("added", "alreadyMembers", "unknown", "invalid")} == {
        "added": 2,
        "alreadyMembers": 1,
        "unknown": 1,
        "invalid": 2,
    }
    assert [e["pointer"] for e in body["errors"]] == [
        "/identities/2",
        "/identities/4/value",
        "/identities/5/namespace",
    ]
    assert body["errors"][0]["detail"] == "No profile has the identity email “zed@example.com”."
    members = set(
        AudienceMember.objects.filter(audience=audience).values_list("profile_id", flat=True)
    )
    assert members == {people["ana"].pk, people["ben"].pk, people["cy"].pk}


def test_add_members_to_a_rule_based_audience_is_409(writer: APIClient) -> None:
    make_people()
    audience = Audience.objects.create(name="R", kind="rules", rules=RULES)
    response = writer.post(
        f"/api/v1/audiences/{audience.pk}/members",
        {"identities": [{"namespace": "email", "value": "ana@example.com"}]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == problem(
        409, "audience_not_static", "“R” is rule-based: its members follow its rules."
    )
    assert AudienceMember.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/identities"),
        ({"identities": []}, "/identities"),
        ({"identities": [{"namespace": "email"}]}, "/identities/0/value"),
        ({"identities": [{"namespace": "email", "value": 3}]}, "/identities/0/value"),
        (
            {"identities": [{"namespace": "email", "value": "ana@example.com"}], "remove": True},
            "/remove",
        ),
        (
            {"identities": [{"namespace": "email", "value": "ana@example.com", "note": "x"}]},
            "/identities/0/note",
        ),
    ],
)
def test_add_members_bad_body(writer: APIClient, body: dict[str, Any], pointer: str) -> None:
    make_people()
    audience = Audience.objects.create(name="S", kind="static")
    response = writer.post(f"/api/v1/audiences/{audience.pk}/members", body, format="json")
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert AudienceMember.objects.count() == 0


def test_staff_session_uses_model_permissions(db: None) -> None:
    user = UserFactory.create(username="viewer")
    user.user_permissions.set(Permission.objects.filter(codename="view_audience"))
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/audiences").status_code == 200
    response = client.post("/api/v1/audiences", {"name": "S", "kind": "static"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_permission"
