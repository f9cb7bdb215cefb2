"""What else must forget a person when their profile is erased.

Apps above audiences keep records that name a person (delivery's messages hold
an address and the call's profile data). audiences cannot import them, so they
register a hook here when they load (their ``AppConfig.ready``), and
``profile_delete`` runs every hook in its transaction, before the profile goes.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

ErasureHook = Callable[[UUID], object]  # what a hook returns is ignored

_hooks: list[ErasureHook] = []


def erasure_hook_register(hook: ErasureHook) -> None:
    """Run ``hook(profile_id)`` whenever a profile is erased (registering twice runs once)."""
    if hook not in _hooks:
        _hooks.append(hook)


def erasure_hooks() -> tuple[ErasureHook, ...]:
    return tuple(_hooks)
