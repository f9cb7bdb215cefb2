"""Version 7 ids: time-ordered, derived ones repeatable, floors usable as partition bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ids import uuid7, uuid7_derived, uuid7_floor, uuid7_time

AT = datetime(2026, 11, 29, 5, 30, 12, 345000, tzinfo=UTC)


def test_a_uuid7_carries_its_time_version_and_variant() -> None:
    value = uuid7(AT)

    assert value.version == 7
    assert value.variant == "specified in RFC 4122"
    assert uuid7_time(value) == AT


def test_ids_made_later_sort_after_and_two_of_one_millisecond_differ() -> None:
    first, second = uuid7(AT), uuid7(AT)
    later = uuid7(AT + timedelta(milliseconds=1))

    assert first != second
    assert max(first, second) < later


def test_a_floor_bounds_the_ids_of_its_millisecond_and_after() -> None:
    floor = uuid7_floor(AT)

    assert uuid7(AT - timedelta(milliseconds=1)) < floor <= uuid7(AT)
    assert uuid7_time(floor) == AT


def test_a_derived_id_repeats_for_the_same_parts_only() -> None:
    one = uuid7_derived(AT, "execution", "profile-1")

    assert one == uuid7_derived(AT, "execution", "profile-1")
    assert one != uuid7_derived(AT, "execution", "profile-2")
    assert one.version == 7
    assert uuid7_time(one) == AT
