"""Checks on free JSON values (a call's context, profile data) before they are stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import escape_pointer_token


def nul_pointer(value: Any) -> str | None:
    """The JSON pointer (relative to ``value``) of the first key or string holding a NUL
    character, which PostgreSQL's jsonb cannot store; None when there is none.

    Walks iteratively: a recursive walk could overflow on nesting the parser accepts.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return at
        elif isinstance(item, Mapping):
            for key, child in item.items():
                where = f"{at}/{escape_pointer_token(str(key))}"
                if "\x00" in str(key):
                    return where
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{at}/{index}") for index, child in enumerate(item))
    return None
