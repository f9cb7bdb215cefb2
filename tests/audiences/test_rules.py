"""The rule language: each operator on each kind of field, against hand-computed sets."""

from __future__ import annotations

from typing import Any

import pytest

from audiences.models import Profile
from audiences.rules import (
    MAX_IN_VALUES,
    MAX_RULES_CONDITIONS,
    MAX_RULES_DEPTH,
    rules_clean,
    rules_to_q,
    rules_validate,
)
from core.errors import FieldError, InvalidInput
from tests.audiences.audience_helpers import make_people, names

pytestmark = pytest.mark.django_db

EVERYONE = {"ana", "ben", "cy", "dee", "eve", "fay"}


def one(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        condition["value"] = value
    return {"combinator": "and", "conditions": [condition]}


CASES: list[tuple[str, str, Any, set[str]]] = [
    # attributes: equals is type-strict, numbers by value
    ("attributes.city", "equals", "Paris", {"ana"}),
    ("attributes.age", "equals", 30, {"ana", "fay"}),
    ("attributes.age", "equals", "30", {"ben"}),
    ("attributes.vip", "equals", True, {"ana"}),
    ("attributes.vip", "equals", False, {"ben"}),
    ("attributes.vip", "equals", 1, {"cy"}),
    ("attributes.plan.tier", "equals", "gold", {"ana"}),
    ("attributes.score", "equals", 7.5, {"ana"}),
    # not_equals keeps profiles without the attribute, with null, or with another type
    ("attributes.city", "not_equals", "Paris", {"ben", "cy", "dee", "eve", "fay"}),
    ("attributes.vip", "not_equals", True, {"ben", "cy", "dee", "eve", "fay"}),
    ("attributes.age", "not_equals", 30, {"ben", "cy", "dee", "eve"}),
    ("attributes.plan.tier", "not_equals", "gold", {"ben", "cy", "dee", "eve", "fay"}),
    # contains: case-sensitive substring of strings, element of lists
    ("attributes.city", "contains", "Paris", {"ana", "fay"}),
    ("attributes.city", "contains", "ari", {"ana", "ben", "fay"}),
    ("attributes.tags", "contains", "vip", {"ana", "cy"}),
    ("attributes.tags", "contains", "bet", set()),
    ("attributes.tags", "contains", "beta", {"ana", "ben"}),
    ("attributes.tags", "contains", 30, {"fay"}),
    ("attributes.tags", "contains", True, {"fay"}),
    # in
    ("attributes.city", "in", ["Paris", "Lyon"], {"ana", "cy"}),
    ("attributes.age", "in", [30, "30"], {"ana", "ben", "fay"}),
    ("attributes.vip", "in", [False, 1], {"ben", "cy"}),
    # exists / not_exists (null does not exist)
    ("attributes.age", "exists", None, {"ana", "ben", "cy", "fay"}),
    ("attributes.age", "not_exists", None, {"dee", "eve"}),
    ("attributes.plan.tier", "exists", None, {"ana", "ben"}),
    ("attributes.plan.tier", "not_exists", None, {"cy", "dee", "eve", "fay"}),
    ("attributes.plan", "exists", None, {"ana", "ben", "cy", "fay"}),
    # numbers only
    ("attributes.age", "greater_than", 29, {"ana", "cy", "fay"}),
    ("attributes.age", "less_than", 31, {"ana", "fay"}),
    ("attributes.score", "less_than", 10, {"ana", "fay"}),
    ("attributes.score", "greater_than", 7.5, {"ben"}),
    ("attributes.city", "greater_than", 0, set()),
    # ISO text
    ("attributes.plan.since", "before", "2024-01-01", {"ana", "fay"}),
    ("attributes.plan.since", "after", "2024-01-01", {"ben"}),
    ("attributes.plan.since", "after", "2023-12-30", {"ben", "fay"}),
    ("attributes.plan.since", "after", "2023-12-31", {"ben"}),
    # locale and time zone (empty = not set)
    ("locale", "equals", "fr-CA", {"ana"}),
    ("locale", "not_equals", "fr-CA", {"ben", "cy", "dee", "eve", "fay"}),
    ("locale", "contains", "fr", {"ana", "fay"}),
    ("locale", "contains", "FR", set()),
    ("locale", "in", ["en", "fr"], {"ben", "fay"}),
    ("locale", "exists", None, {"ana", "ben", "fay"}),
    ("locale", "not_exists", None, {"cy", "dee", "eve"}),
    ("timeZone", "equals", "America/Toronto", {"ana"}),
    ("timeZone", "exists", None, {"ana"}),
    ("timeZone", "not_exists", None, {"ben", "cy", "dee", "eve", "fay"}),
    # real date-times; strict comparisons; a date is midnight UTC
    ("createdAt", "before", "2024-02-01", {"ana"}),
    ("createdAt", "after", "2024-03-01T12:00:00Z", {"dee", "eve", "fay"}),
    ("createdAt", "after", "2024-03-01T13:00:00+02:00", {"cy", "dee", "eve", "fay"}),
    ("createdAt", "before", "2024-03-01T12:00:00", {"ana", "ben"}),
    ("updatedAt", "before", "2024-02-11T00:00:01Z", {"ana", "ben"}),
    ("updatedAt", "after", "2024-06-10", {"fay"}),
    # consent: no row is unknown
    ("consent.email", "equals", "opted_in", {"ana"}),
    ("consent.email", "equals", "opted_out", {"ben"}),
    ("consent.email", "equals", "unknown", {"cy", "dee", "eve", "fay"}),
    ("consent.email", "not_equals", "opted_in", {"ben", "cy", "dee", "eve", "fay"}),
    ("consent.email", "not_equals", "unknown", {"ana", "ben"}),
    ("consent.email", "in", ["opted_in", "unknown"], {"ana", "cy", "dee", "eve", "fay"}),
    ("consent.sms", "equals", "opted_in", {"ben"}),
    ("consent.push", "equals", "unknown", {"ana", "ben", "cy", "dee", "eve"}),
    # identities
    ("identity.email", "equals", "ana@example.com", {"ana"}),
    ("identity.email", "not_equals", "ana@example.com", {"ben", "cy", "dee", "eve", "fay"}),
    ("identity.email", "contains", "example.com", {"ana", "ben"}),
    ("identity.email", "in", ["ben@example.com", "zed@example.com"], {"ben"}),
    ("identity.email", "exists", None, {"ana", "ben"}),
    ("identity.email", "not_exists", None, {"cy", "dee", "eve", "fay"}),
    ("identity.crm_id", "contains", "C-", {"ana", "cy"}),
    ("identity.phone", "equals", "+14165550100", {"ben"}),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_each_operator_matches_the_hand_computed_set(
    field: str, operator: str, value: Any, expected: set[str]
) -> None:
    # given
    people = make_people()
    rules = one(field, operator, value)
    rules_validate(rules)
    # when
    matched = Profile.objects.filter(rules_to_q(rules))
    # then
    assert names(matched, people) == expected


def test_every_operator_is_covered() -> None:
    from audiences.rules import OPERATORS_BY_KIND

    covered = {(field.split(".")[0], operator) for field, operator, _v, _e in CASES}
    kinds = {"attributes": "attribute", "locale": "text", "timeZone": "text"}
    kinds |= {"createdAt": "datetime", "updatedAt": "datetime"}
    kinds |= {"consent": "consent", "identity": "identity"}
    for prefix, kind in kinds.items():
        if prefix in ("timeZone", "updatedAt"):
            continue
        assert {op for p, op in covered if p == prefix} == set(OPERATORS_BY_KIND[kind]), prefix


def test_and_or_nesting() -> None:
    # given
    people = make_people()
    rules = {
        "combinator": "and",
        "conditions": [
            {"field": "attributes.city", "operator": "in", "value": ["Paris", "Lyon"]},
            {
                "combinator": "or",
                "conditions": [
                    {"field": "consent.email", "operator": "equals", "value": "opted_in"},
                    {"field": "attributes.age", "operator": "greater_than", "value": 40},
                ],
            },
        ],
    }
    other = {
        "combinator": "or",
        "conditions": [
            {
                "combinator": "and",
                "conditions": [
                    {"field": "locale", "operator": "equals", "value": "en"},
                    {"field": "attributes.vip", "operator": "equals", "value": False},
                ],
            },
            {"field": "identity.crm_id", "operator": "equals", "value": "C-2"},
            {"field": "attributes.nothing", "operator": "exists"},
        ],
    }
    # when / then
    assert names(Profile.objects.filter(rules_to_q(rules)), people) == {"ana", "cy"}
    assert names(Profile.objects.filter(rules_to_q(other)), people) == {"ben", "cy"}


def test_negations_inside_or_groups_keep_missing_attributes() -> None:
    people = make_people()
    rules = {
        "combinator": "or",
        "conditions": [
            {"field": "attributes.city", "operator": "not_equals", "value": "Paris"},
            {"field": "attributes.age", "operator": "greater_than", "value": 100},
        ],
    }
    assert names(Profile.objects.filter(rules_to_q(rules)), people) == EVERYONE - {"ana"}


def test_rules_clean_normalises_identity_values() -> None:
    rules = {
        "combinator": "or",
        "conditions": [
            {"field": "identity.email", "operator": "equals", "value": "  Ana@Example.COM"},
            {"field": "identity.phone", "operator": "in", "value": ["+1 416 555 0100"]},
            {"field": "identity.email", "operator": "contains", "value": "Example"},
        ],
    }
    assert rules_clean(rules) == {
        "combinator": "or",
        "conditions": [
            {"field": "identity.email", "operator": "equals", "value": "ana@example.com"},
            {"field": "identity.phone", "operator": "in", "value": ["+14165550100"]},
            {"field": "identity.email", "operator": "contains", "value": "Example"},
        ],
    }


def errors_of(rules: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        rules_validate(rules)
    return [(e.pointer, e.detail) for e in caught.value.errors]


def test_validation_names_each_problem_with_its_pointer() -> None:
    rules = {
        "combinator": "xor",
        "conditions": [
            {"field": "attributes.age", "operator": "greater_than", "value": 3},
            {"field": "colour", "operator": "equals", "value": "red"},
            {"field": "attributes.age", "operator": "bigger", "value": 3},
            {"field": "createdAt", "operator": "equals", "value": "2024-01-01"},
            {"field": "attributes.age", "operator": "greater_than", "value": "3"},
            {"field": "attributes.d", "operator": "before", "value": "yesterday"},
            {
                "combinator": "and",
                "conditions": [
                    {"field": "consent.email", "operator": "equals", "value": "yes"},
                    {"field": "locale", "operator": "in", "value": []},
                    {"field": "locale", "operator": "exists", "value": "x"},
                    {"field": "attributes.a..b", "operator": "exists"},
                    {"field": "locale", "operator": "equals"},
                    {"field": "locale", "operator": "equals", "value": 3, "extra": 1},
                ],
            },
            {"field": "identity.Bad Code", "operator": "exists"},
            {"field": "attributes.n", "operator": "in", "value": ["a", {"x": 1}]},
        ],
    }
    pointers = [pointer for pointer, _detail in errors_of(rules)]
    assert pointers == [
        "/rules/combinator",
        "/rules/conditions/1/field",
        "/rules/conditions/2/operator",
        "/rules/conditions/3/operator",
        "/rules/conditions/4/value",
        "/rules/conditions/5/value",
        "/rules/conditions/6/conditions/0/value",
        "/rules/conditions/6/conditions/1/value",
        "/rules/conditions/6/conditions/2/value",
        "/rules/conditions/6/conditions/3/field",
        "/rules/conditions/6/conditions/4/value",
        "/rules/conditions/6/conditions/5/extra",
        "/rules/conditions/6/conditions/5/value",
        "/rules/conditions/7/field",
        "/rules/conditions/8/value/1",
    ]


def test_validation_messages_are_words() -> None:
    assert errors_of(one("attributes.age", "bigger", 3)) == [
        (
            "/rules/conditions/0/operator",
            "“bigger” is not an operator (use one of: equals, not_equals, contains, in, exists, "
            "not_exists, greater_than, less_than, before, after).",
        )
    ]
    assert errors_of(one("createdAt", "equals", "2024-01-01")) == [
        (
            "/rules/conditions/0/operator",
            "The field “createdAt” does not take “equals” (use one of: before, after).",
        )
    ]
    assert errors_of({"combinator": "and", "conditions": []}) == [
        ("/rules/conditions", "Add at least one condition to the group.")
    ]
    assert errors_of([]) == [
        ("/rules", "A group must be an object with “combinator” and “conditions”.")
    ]


def test_unknown_identity_namespace_and_bad_identity_value() -> None:
    rules = {
        "combinator": "and",
        "conditions": [
            {"field": "identity.loyalty", "operator": "exists"},
            {"field": "identity.email", "operator": "equals", "value": "not-an-email"},
        ],
    }
    with pytest.raises(InvalidInput) as caught:
        rules_clean(rules)
    assert [e.pointer for e in caught.value.errors] == [
        "/rules/conditions/0/field",
        "/rules/conditions/1/value",
    ]
    assert caught.value.errors[0] == FieldError(
        "/rules/conditions/0/field", "No identity namespace has the code “loyalty”."
    )


def test_depth_limit() -> None:
    rules: dict[str, Any] = one("locale", "exists")
    for _level in range(MAX_RULES_DEPTH):
        rules = {"combinator": "or", "conditions": [rules]}
    pointer = "/rules" + "/conditions/0" * MAX_RULES_DEPTH
    assert errors_of(rules) == [
        (pointer, f"Groups may be nested at most {MAX_RULES_DEPTH} levels deep.")
    ]
    rules_validate(rules["conditions"][0])  # one level less is fine


def test_condition_count_limit() -> None:
    condition = {"field": "locale", "operator": "exists"}
    rules_validate({"combinator": "or", "conditions": [condition] * MAX_RULES_CONDITIONS})
    too_many = {"combinator": "or", "conditions": [condition] * (MAX_RULES_CONDITIONS + 1)}
    assert errors_of(too_many) == [
        (
            f"/rules/conditions/{MAX_RULES_CONDITIONS}",
            f"A rule set may have at most {MAX_RULES_CONDITIONS} conditions.",
        )
    ]


def test_in_list_limit() -> None:
    assert errors_of(one("locale", "in", ["en"] * (MAX_IN_VALUES + 1))) == [
        ("/rules/conditions/0/value", f"“in” takes at most {MAX_IN_VALUES} values.")
    ]


def test_rules_to_q_rejects_broken_stored_rules() -> None:
    with pytest.raises(InvalidInput):
        rules_to_q({"combinator": "and", "conditions": [{"field": "nope"}]})


EMPTY = (
    "Give a value: an empty one would match nothing. For profiles without a value, "
    "use “does not exist”."
)


@pytest.mark.parametrize(
    ("condition", "at"),
    [
        ({"field": "attributes.city", "operator": "equals", "value": ""}, "/value"),
        ({"field": "attributes.city", "operator": "not_equals", "value": "  "}, "/value"),
        ({"field": "locale", "operator": "equals", "value": ""}, "/value"),
        ({"field": "timeZone", "operator": "not_equals", "value": ""}, "/value"),
        ({"field": "identity.crm_id", "operator": "equals", "value": ""}, "/value"),
        ({"field": "attributes.city", "operator": "in", "value": ["Paris", ""]}, "/value/1"),
    ],
)
def test_an_empty_value_is_refused_with_a_pointer_to_it(condition: dict[str, Any], at: str) -> None:
    # given a group whose second condition has an empty value
    rules = {
        "combinator": "and",
        "conditions": [{"field": "locale", "operator": "exists"}, condition],
    }

    # then validation names that value, in words
    assert errors_of(rules) == [("/rules/conditions/1" + at, EMPTY)]
    with pytest.raises(InvalidInput):
        rules_clean(rules)
