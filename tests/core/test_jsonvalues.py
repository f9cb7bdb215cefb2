"""Finding a NUL character in free JSON, where PostgreSQL would refuse it."""

from __future__ import annotations

from core.jsonvalues import nul_pointer


def test_the_pointer_names_the_key_or_string_holding_nul() -> None:
    assert nul_pointer({"a/b": {"c~d": ["ok", "x\x00"]}}) == "/a~1b/c~0d/1"
    assert nul_pointer({"ok": {"bad\x00key": 1}}) == "/ok/bad\x00key"
    assert nul_pointer({"fine": ["a", 1, None, {"b": True}]}) is None


def test_nesting_deeper_than_the_recursion_limit_is_walked() -> None:
    value: object = "end\x00"
    for _ in range(5000):
        value = [value]

    assert nul_pointer(value) == "/0" * 5000
