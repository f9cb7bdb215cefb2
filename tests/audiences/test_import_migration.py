"""Migration 0005: imports that said "Succeeded" with rejected rows say how they ended."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("audiences", "0004_builtin_value_kinds")]
AFTER = [("audiences", "0005_profile_import_outcome_heartbeat")]


@pytest.fixture
def latest_schema_afterwards() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # later tests need every migration


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_afterwards")
def test_finished_imports_are_classified_by_their_counts() -> None:
    # given imports stored before the new statuses, all "succeeded"
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    namespace = old.get_model("audiences", "IdentityNamespace").objects.get(code="email")
    ProfileImport = old.get_model("audiences", "ProfileImport")
    counts = {
        "clean": (2, 1, 0),
        "mixed": (1, 0, 3),
        "all rejected": (0, 0, 4),
    }
    for name, (created, updated, rejected) in counts.items():
        ProfileImport.objects.create(
            file=f"imports/{name}.csv",
            namespace=namespace,
            status="succeeded",
            created_count=created,
            updated_count=updated,
            rejected_count=rejected,
        )
    ProfileImport.objects.create(file="imports/broken.csv", namespace=namespace, status="failed")

    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    # then each says how it ended
    new = executor.loader.project_state(AFTER).apps
    rows = new.get_model("audiences", "ProfileImport").objects.values_list(
        "file", "status", "error"
    )
    assert sorted(rows) == [
        (
            "imports/all rejected.csv",
            "failed",
            "Every row was rejected; download the rejected rows to see why.",
        ),
        ("imports/broken.csv", "failed", ""),
        ("imports/clean.csv", "succeeded", ""),
        ("imports/mixed.csv", "partially_succeeded", ""),
    ]
