"""Selectors: one query per evaluation, keyset batches, estimate and sample."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audiences.models import Audience, AudienceMember, Profile
from audiences.selectors import (
    audience_estimate,
    audience_iter_batches,
    audience_profiles,
    audience_sample,
)
from tests.audiences.audience_helpers import make_people, names

pytestmark = pytest.mark.django_db

NESTED_RULES = {
    "combinator": "and",
    "conditions": [
        {"field": "attributes.city", "operator": "in", "value": ["Paris", "Lyon"]},
        {
            "combinator": "or",
            "conditions": [
                {"field": "consent.email", "operator": "equals", "value": "opted_in"},
                {"field": "identity.crm_id", "operator": "exists"},
                {"field": "attributes.age", "operator": "greater_than", "value": 40},
            ],
        },
    ],
}


def rules_audience(rules: dict[str, Any], name: str = "A") -> Audience:
    return Audience.objects.create(name=name, kind=Audience.Kind.RULES, rules=rules)


def test_audience_profiles_is_one_query(django_assert_num_queries: Any) -> None:
    # given
    people = make_people()
    audience = rules_audience(NESTED_RULES)
    # when / then
    with django_assert_num_queries(1):
        matched = list(audience_profiles(audience))
    assert names(matched, people) == {"ana", "cy"}


def test_static_audience_profiles_are_its_members(django_assert_num_queries: Any) -> None:
    people = make_people()
    audience = Audience.objects.create(name="S", kind=Audience.Kind.STATIC)
    for name in ("ben", "eve"):
        AudienceMember.objects.create(audience=audience, profile=people[name])
    with django_assert_num_queries(1):
        matched = list(audience_profiles(audience))
    assert names(matched, people) == {"ben", "eve"}
    assert audience_estimate(audience) == 2


def test_estimate_is_one_count(django_assert_num_queries: Any) -> None:
    make_people()
    audience = rules_audience(NESTED_RULES)
    with django_assert_num_queries(1) as captured:
        size = audience_estimate(audience)
    assert size == 2
    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()


def test_sample_is_the_newest_matching_profiles() -> None:
    people = make_people()
    audience = rules_audience(
        {
            "combinator": "and",
            "conditions": [{"field": "createdAt", "operator": "after", "value": "2024-01-15"}],
        }
    )
    assert [p.pk for p in audience_sample(audience, n=3)] == [
        people["fay"].pk,
        people["eve"].pk,
        people["dee"].pk,
    ]
    assert len(audience_sample(audience)) == 5


def _profiles(count: int, city: str = "Paris") -> list[Profile]:
    return [Profile.objects.create(attributes={"city": city, "n": i}) for i in range(count)]


@pytest.mark.parametrize("batch_size", [1, 7, 10, 1000])
def test_batches_visit_every_profile_once(batch_size: int) -> None:
    # given 23 matching profiles and 5 others
    expected = {p.pk for p in _profiles(23)}
    _profiles(5, city="Lyon")
    audience = rules_audience(
        {
            "combinator": "and",
            "conditions": [{"field": "attributes.city", "operator": "equals", "value": "Paris"}],
        }
    )
    # when
    batches = list(audience_iter_batches(audience, batch_size=batch_size))
    # then
    visited = [p.pk for batch in batches for p in batch]
    assert len(visited) == len(set(visited)) == 23
    assert set(visited) == expected
    assert all(len(batch) <= batch_size for batch in batches)
    assert visited == sorted(visited)


def test_batches_while_profiles_are_added() -> None:
    # given 25 matching profiles, read in batches of 7 (25 is not a multiple of 7)
    initial = {p.pk for p in _profiles(25)}
    audience = rules_audience(
        {
            "combinator": "and",
            "conditions": [{"field": "attributes.city", "operator": "equals", "value": "Paris"}],
        }
    )
    inserted: set[Any] = set()
    visited: list[Any] = []
    # when 3 matching and 1 other profile are inserted between every two batches
    for batch in audience_iter_batches(audience, batch_size=7):
        visited.extend(p.pk for p in batch)
        inserted |= {p.pk for p in _profiles(3)}
        _profiles(1, city="Lyon")
    # then every initial profile was visited exactly once, and nothing else but new matches
    assert len(visited) == len(set(visited))
    assert initial <= set(visited)
    assert set(visited) <= initial | inserted


def test_batches_query_by_key_never_offset() -> None:
    _profiles(5)
    audience = rules_audience(
        {"combinator": "and", "conditions": [{"field": "attributes.city", "operator": "exists"}]}
    )
    with CaptureQueriesContext(connection) as captured:
        batches = list(audience_iter_batches(audience, batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    sqls = [q["sql"].upper() for q in captured.captured_queries]
    assert len(sqls) == 3
    assert not any("OFFSET" in sql for sql in sqls)
    assert all("ORDER BY" in sql and "LIMIT 2" in sql for sql in sqls)
    assert all('"AUDIENCES_PROFILE"."ID" >' in sql for sql in sqls[1:])


def test_empty_audience_yields_no_batch() -> None:
    audience = Audience.objects.create(name="S", kind=Audience.Kind.STATIC)
    assert list(audience_iter_batches(audience)) == []


def test_a_batch_of_exactly_the_rest_ends_with_one_empty_query() -> None:
    _profiles(4)
    audience = rules_audience(
        {
            "combinator": "and",
            "conditions": [{"field": "attributes.n", "operator": "less_than", "value": 10}],
        }
    )
    assert [len(b) for b in audience_iter_batches(audience, batch_size=2)] == [2, 2]
