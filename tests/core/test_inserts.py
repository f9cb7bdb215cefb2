"""core.inserts: INSERTs built from unsaved instances, several run in one round trip on
PostgreSQL (a WITH of data-modifying parts) and one by one elsewhere."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.inserts import insert_statement, statements_run
from delivery.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def _record(key: str, body: object) -> IdempotencyRecord:
    return IdempotencyRecord(
        owner="key:1",
        key=key,
        endpoint="unitary",
        body_hash="h",
        response_status=202,
        response_body=body,
    )


def test_statements_write_what_the_orm_would_in_one_round_trip_on_postgresql() -> None:
    # given two unsaved records, one with a nested JSON body
    before = timezone.now()
    first, second = _record("a", {"x": [1, "é", None]}), _record("b", [])

    # when
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        statements_run(
            [insert_statement([first]), insert_statement([second])],
            prelude="SET LOCAL lock_timeout = 1000",
        )

    # then both rows are there as written, created_at filled as auto_now_add does
    writes = [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2)
    rows = {r.key: r for r in IdempotencyRecord.objects.all()}
    assert {k: r.response_body for k, r in rows.items()} == {"a": {"x": [1, "é", None]}, "b": []}
    assert rows["a"].created_at == first.created_at
    assert first.created_at >= before


def test_several_rows_of_one_model_go_in_one_insert() -> None:
    with CaptureQueriesContext(connection) as queries:
        statements_run([insert_statement([_record(str(n), {}) for n in range(3)])])

    assert len(queries.captured_queries) == 1
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["0", "1", "2"]


def test_a_failing_part_writes_nothing() -> None:
    # given a record with key "taken"
    statements_run([insert_statement([_record("taken", {})])])

    # when a statement writes a new key and the taken one again
    with pytest.raises(IntegrityError), transaction.atomic():
        statements_run(
            [insert_statement([_record("new", {})]), insert_statement([_record("taken", {})])]
        )

    # then neither was written
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["taken"]
