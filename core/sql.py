"""Rows of model values as SQL, for the statements the ORM cannot write.

``typed_values`` writes ``VALUES (...), (...)`` with each value prepared by its model
field. Inside a subquery PostgreSQL types a bare parameter as ``text``, which it will
not assign to a ``uuid`` or ``timestamptz`` column: every value but a character one
is cast to its column's type. Character values are left bare, so a value too long
for its column is refused on assignment as in a plain ``INSERT`` (an explicit cast to
``varchar(n)`` would cut it silently).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Field, TextField


def _placeholder(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    if isinstance(field, CharField | TextField):
        return "%s"
    return f"CAST(%s AS {field.db_type(connection)})"


def typed_values(
    fields: Sequence[Field[Any, Any]],
    rows: Sequence[Sequence[Any]],
    connection: BaseDatabaseWrapper,
) -> tuple[str, list[Any]]:
    """``VALUES (...), ...`` of ``rows`` (one value per field, in order) and its parameters."""
    row = "(" + ", ".join(_placeholder(field, connection) for field in fields) + ")"
    params: list[Any] = []
    for values in rows:
        params += [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
    return "VALUES " + ", ".join([row] * len(rows)), params
