"""API key services: a prefix collision is retried, changes are recorded, grants are limited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError

from core.actors import Actor
from core.apikeys import (
    PREFIX_ATTEMPTS,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    api_key_update,
)
from core.errors import InvalidInput
from core.models import ApiKey, ApiKeyEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_prefix_collision_is_retried_with_a_new_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    first, _secret = api_key_create(name="first", scopes=["campaigns:read"])
    prefixes = iter([first.prefix, first.prefix, "00c0ffee"])
    monkeypatch.setattr("core.apikeys.secrets.token_hex", lambda _n: next(prefixes))

    second, secret = api_key_create(name="second", scopes=["campaigns:read"])

    assert second.prefix == "00c0ffee"
    assert secret.startswith("clr_00c0ffee_")
    assert api_key_authenticate(secret) == second
    assert list(ApiKey.objects.order_by("name").values_list("name", flat=True)) == [
        "first",
        "second",
    ]
    assert ApiKeyEvent.objects.filter(key_name="second").count() == 1


def test_endless_collisions_give_up_after_a_few_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    first, _secret = api_key_create(name="first", scopes=["campaigns:read"])
    calls: list[int] = []

    def always_taken(_n: int) -> str:
        calls.append(1)
        return first.prefix

    monkeypatch.setattr("core.apikeys.secrets.token_hex", always_taken)

    with pytest.raises(IntegrityError):
        api_key_create(name="second", scopes=["campaigns:read"])
    assert len(calls) == PREFIX_ATTEMPTS
    assert ApiKey.objects.count() == 1


def test_a_user_holds_a_scope_through_the_permissions_the_api_asks_for() -> None:
    user = UserFactory.create(username="reader")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_campaign", "view_channelconfiguration"])
    )

    key, _secret = api_key_create(name="ok", scopes=["campaigns:read"], actor=Actor(user=user))
    with pytest.raises(InvalidInput) as refused:
        api_key_create(name="no", scopes=["executions:trigger"], actor=Actor(user=user))

    assert key.created_by == user
    assert [(e.pointer, e.detail) for e in refused.value.errors] == [
        ("/scopes/0", "You do not hold the scope “executions:trigger”, so you cannot give it.")
    ]


def test_update_and_revoke_record_what_changed() -> None:
    key, secret = api_key_create(name="shop", scopes=["campaigns:read"])
    admin = UserFactory.create(username="root", is_superuser=True)
    actor = Actor(user=admin)

    api_key_update(
        key=key,
        name="shop",
        scopes=["campaigns:read", "executions:trigger"],
        access_labels=[],
        is_active=True,
        actor=actor,
    )
    api_key_revoke(key=key, actor=actor)
    api_key_revoke(key=key, actor=actor)  # already revoked: nothing more to record

    assert api_key_authenticate(secret) is None
    assert list(key.events.order_by("id").values_list("action", "detail")) == [
        ("created", {"scopes": ["campaigns:read"], "accessLabels": []}),
        ("changed", {"scopes": [["campaigns:read"], ["campaigns:read", "executions:trigger"]]}),
        ("revoked", {}),
    ]


def test_switching_a_revoked_key_back_on_needs_everything_it_carries() -> None:
    # given a key a superuser made with a scope the user does not hold, then revoked
    key, secret = api_key_create(name="shop", scopes=["campaigns:read", "executions:trigger"])
    api_key_revoke(key=key, actor=Actor())
    user = UserFactory.create(username="reader")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_campaign", "view_channelconfiguration"])
    )
    carried = {"name": "shop", "scopes": key.scopes, "access_labels": []}

    # when the user saves it as it is while it stays revoked, then tries to switch it back on
    api_key_update(key=key, **carried, is_active=False, actor=Actor(user=user))
    with pytest.raises(InvalidInput) as refused:
        api_key_update(key=key, **carried, is_active=True, actor=Actor(user=user))

    # then saving a revoked key is fine, switching it back on is refused, and it stays off
    assert [(e.pointer, e.detail) for e in refused.value.errors] == [
        ("/scopes/1", "You do not hold the scope “executions:trigger”, so you cannot give it.")
    ]
    assert api_key_authenticate(secret) is None
    assert list(key.events.order_by("id").values_list("action", flat=True)) == [
        "created",
        "revoked",
    ]


def test_a_process_asks_the_shared_cache_about_a_keys_use_once_a_minute(monkeypatch) -> None:
    # given a key, and the shared cache's "record this use?" question counted
    from core import apikeys

    _key, secret = api_key_create(name="busy", scopes=["executions:trigger"])
    asked: list[str] = []
    real_add = apikeys.cache.add

    def add(name: str, value: object, timeout: int | None = None) -> bool:
        asked.append(name)
        return bool(real_add(name, value, timeout))

    monkeypatch.setattr(apikeys.cache, "add", add)
    monkeypatch.setattr(apikeys, "_last_used_asked", {})

    # when it authenticates five calls in a row (its cached copy never learns last_used_at)
    keys = [apikeys.api_key_authenticate(secret) for _ in range(5)]

    # then the use was recorded once, and the shared cache asked once, not five times
    assert all(k is not None for k in keys)
    assert len(asked) == 1
    assert ApiKey.objects.get(name="busy").last_used_at is not None
