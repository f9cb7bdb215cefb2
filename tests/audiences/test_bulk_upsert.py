"""profile_upsert_many: same results as one upsert per input, in a few queries per batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audiences.models import Consent, Identity, Profile
from audiences.profile_input import ProfileInput, profile_input_parse
from audiences.selectors import profile_resolve
from audiences.services import bulk
from audiences.services.bulk import profile_upsert_many
from audiences.services.profiles import IdentityConflict, profile_upsert

pytestmark = pytest.mark.django_db


def parsed(value: str, **data: Any) -> ProfileInput:
    return profile_input_parse(namespace="email", value=value, data=data)


def people(count: int, start: int = 0, version: int = 1) -> list[ProfileInput]:
    return [
        parsed(
            f"p{i}@example.com",
            attributes={"n": i, "version": version},
            consent={"email": "opted_in"},
            identities=[{"namespace": "crm_id", "value": f"C-{i}"}],
        )
        for i in range(start, start + count)
    ]


def test_creates_then_updates_in_order() -> None:
    # when 3 new people are upserted, then again with other attributes
    first = profile_upsert_many(inputs=people(3))
    second = profile_upsert_many(
        inputs=[parsed(f"p{i}@example.com", attributes={"m": i}) for i in range(3)]
    )

    # then the first call created them and the second updated the same profiles
    assert [o.created for o in first] == [True, True, True]
    assert [o.created for o in second] == [False, False, False]
    assert [o.profile_id for o in first] == [o.profile_id for o in second]
    assert Profile.objects.count() == 3
    assert Identity.objects.count() == 6
    profile = profile_resolve(namespace="crm_id", value="C-1")
    assert profile.attributes == {"n": 1, "version": 1, "m": 1}
    assert profile.email_address == "p1@example.com"
    assert Consent.objects.filter(status="opted_in", source="api").count() == 3


def test_query_count_does_not_grow_with_the_batch() -> None:
    # given half of the people exist already
    profile_upsert_many(inputs=people(50))

    small_batch, large_batch = people(10, start=45, version=2), people(100, version=3)

    # when batches of 10 and of 100 are upserted (some new, some changed)
    with CaptureQueriesContext(connection) as small:
        profile_upsert_many(inputs=small_batch)
    with CaptureQueriesContext(connection) as large:
        profile_upsert_many(inputs=large_batch)

    # then both take the same few queries: find identities, savepoint, lock profiles,
    # insert profiles, update profiles, insert identities, upsert consent, release
    assert len(small) == len(large) == 8
    assert Profile.objects.count() == 100
    assert Profile.objects.filter(attributes__version=3).count() == 100


def test_identity_repeated_in_the_batch_is_one_profile() -> None:
    # given a batch where the 2nd input names the 1st by its extra identity
    outcomes = profile_upsert_many(
        inputs=[
            parsed("a@example.com", attributes={"x": 1}),
            profile_input_parse(
                namespace="crm_id",
                value="C-9",
                data={
                    "attributes": {"y": 2},
                    "identities": [{"namespace": "email", "value": "a@example.com"}],
                },
            ),
        ]
    )

    # then it is one profile, created then updated
    assert [o.created for o in outcomes] == [True, False]
    assert outcomes[0].profile_id == outcomes[1].profile_id
    profile = Profile.objects.get()
    assert profile.attributes == {"x": 1, "y": 2}
    assert Identity.objects.count() == 2


def test_identities_of_two_profiles_is_an_error_for_that_input_only() -> None:
    # given a@ and C-1 are two different people
    profile_upsert(data=parsed("a@example.com"))
    profile_upsert(data=profile_input_parse(namespace="crm_id", value="C-1", data={}))

    # when an input claims both, next to a good input
    outcomes = profile_upsert_many(
        inputs=[
            parsed("a@example.com", identities=[{"namespace": "crm_id", "value": "C-1"}]),
            parsed("b@example.com"),
        ]
    )

    # then only that input fails, and nothing is merged
    assert isinstance(outcomes[0].error, IdentityConflict)
    assert outcomes[0].profile_id is None
    assert outcomes[1].created is True
    assert Profile.objects.count() == 3


def test_lost_race_replays_the_batch_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # given b@ was inserted by a "concurrent writer" the batch's look-up did not see
    existing, _ = profile_upsert(data=parsed("b@example.com", attributes={"old": True}))
    monkeypatch.setattr(bulk, "_owners_find", lambda inputs: {})

    # when the batch inserts b@ again, its identity insert fails on the unique constraint
    outcomes = profile_upsert_many(
        inputs=[parsed("a@example.com"), parsed("b@example.com", attributes={"new": True})]
    )

    # then the rows are replayed one by one: a@ created, b@ updated, no duplicate
    assert [o.created for o in outcomes] == [True, False]
    assert outcomes[1].profile_id == existing.pk
    existing.refresh_from_db()
    assert existing.attributes == {"old": True, "new": True}
    assert Profile.objects.count() == 2
