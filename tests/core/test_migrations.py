"""Access labels and API keys moved from ``campaigns`` to ``core`` without touching
their tables: a database made before the move migrates, and its keys keep working."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import Campaign
from core.apikeys import api_key_authenticate
from core.models import ApiKey

LAST_BEFORE_THE_MOVE = ("campaigns", "0002_campaign_audience")
BEFORE_THE_MOVE = [LAST_BEFORE_THE_MOVE, ("core", None)]
SECRET = "clr_0a1b2c3d_made-before-the-move"


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.fixture
def database_before_the_move(transactional_db: None) -> Iterator[MigrationExecutor]:
    """The schema and state as today's main made them before core existed; migrated back
    to the latest state afterwards, whatever the test did."""
    executor = _executor()
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_THE_MOVE)
    yield _executor()
    _executor().migrate(latest)


def test_a_key_made_before_the_move_still_authenticates_with_its_labels_and_permissions(
    database_before_the_move: MigrationExecutor,
) -> None:
    old = database_before_the_move.loader.project_state(LAST_BEFORE_THE_MOVE, at_end=True).apps
    old_label = old.get_model("campaigns", "AccessLabel").objects.create(name="vip")
    old_key = old.get_model("campaigns", "ApiKey").objects.create(
        name="Shop backend",
        prefix="0a1b2c3d",
        key_hash=hashlib.sha256(SECRET.encode()).hexdigest(),
        scopes=["executions:trigger"],
    )
    old_key.access_labels.add(old_label)
    old_group = old.get_model("auth", "Group").objects.create(name="Key admins")
    old_group.access_labels.add(old_label)
    content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="campaigns", model="apikey"
    )[0]
    old_group.permissions.add(
        old.get_model("auth", "Permission").objects.get_or_create(
            content_type=content_type, codename="change_apikey", defaults={"name": "Can change"}
        )[0]
    )
    namespace = old.get_model("audiences", "IdentityNamespace").objects.get_or_create(
        code="email", defaults={"name": "Email"}
    )[0]
    old_campaign = old.get_model("campaigns", "Campaign").objects.create(
        name="Receipts", identity_namespace=namespace
    )
    old_campaign.access_labels.add(old_label)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())

    key = api_key_authenticate(SECRET)
    assert key is not None
    assert (key.pk, key.name, key.scopes) == (old_key.pk, "Shop backend", ["executions:trigger"])
    assert [label.name for label in key.access_labels.all()] == ["vip"]
    assert ApiKey._meta.db_table == "campaigns_apikey"
    campaign = Campaign.objects.get(pk=old_campaign.pk)
    assert [label.name for label in campaign.access_labels.all()] == ["vip"]
    group = Group.objects.get(name="Key admins")
    assert [label.name for label in group.access_labels.all()] == ["vip"]
    permission = Permission.objects.get(group=group)
    assert (permission.content_type.app_label, permission.codename) == ("core", "change_apikey")
