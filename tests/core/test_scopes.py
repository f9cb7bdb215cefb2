"""A scope is held by a user only with every permission the API asks for the operations
it opens, so a key never reaches further than the person who made it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from core.api.permissions import Access
from core.scopes import SCOPE_PERMISSIONS, SCOPES


def _views(patterns: list[Any]) -> Iterator[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None:
                yield view_class


def _api_rules() -> list[tuple[str, Access]]:
    return [
        (f"{view.__module__}.{view.__name__} {method}", access)
        for view in _views(get_resolver().url_patterns)
        for method, access in (getattr(view, "access", None) or {}).items()
    ]


def test_every_permission_a_view_asks_for_is_needed_to_hold_its_scope() -> None:
    rules = _api_rules()

    missing = [
        f"{where}: {access.scope} does not ask for {access.permission}"
        for where, access in rules
        if access.permission not in SCOPE_PERMISSIONS.get(access.scope, ())
    ]

    assert len(rules) > 20  # the walk found the API's views
    assert missing == []


def test_every_scope_has_its_permissions() -> None:
    assert set(SCOPE_PERMISSIONS) == set(SCOPES)
    assert all(SCOPE_PERMISSIONS[scope] for scope in SCOPES)
