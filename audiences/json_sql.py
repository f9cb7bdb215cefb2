"""SQL for values inside ``Profile.attributes`` that answers alike on SQLite and PostgreSQL.

Django's KeyTransform compares JSON differently on the two: ``json_extract``
turns ``true`` into ``1`` and numbers into SQL numbers on SQLite, while
``->>`` gives text for everything on PostgreSQL. The rule language reads
values through these expressions instead: the JSON kind of a value, its text
when it is a string, its number when it is a number, and list membership.
Keys are ``[A-Za-z_][A-Za-z0-9_-]*`` (checked by the rule parser), so they are
safe inside a SQLite JSON path; on PostgreSQL they are parameters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, CharField, F, FloatField, Func, Value
from django.db.models.expressions import Expression
from django.db.models.sql.compiler import SQLCompiler

Scalar = str | int | float | bool


class JsonPath(Expression):
    """A value at a key path inside ``Profile.attributes``, rendered per database.

    Django's KeyTransform compares JSON differently on SQLite (``json_extract``
    turns ``true`` into ``1`` and numbers into SQL numbers) and PostgreSQL
    (``->>`` gives text for everything), so the rule language reads values
    through these expressions, which give both databases the same answers.
    """

    def __init__(self, keys: tuple[str, ...], output_field: Any) -> None:
        super().__init__(output_field=output_field)
        self.keys = keys
        self.column: Any = F("attributes")

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        raise NotSupportedError("Audience rules support SQLite and PostgreSQL only.")

    def _parts(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any], Any]:
        column, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            return column, list(params), list(self.keys)
        path = "$" + "".join(f'."{key}"' for key in self.keys)  # keys are [A-Za-z0-9_-]
        return column, list(params), path


class JsonKind(JsonPath):
    """missing, null, true, false, number, string, array or object."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__(keys, CharField())

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        node = f"({column} #> %s::text[])"
        sql = (
            f"COALESCE(CASE jsonb_typeof({node}) WHEN 'boolean' THEN ({column} #>> %s::text[]) "
            f"ELSE jsonb_typeof({node}) END, 'missing')"
        )
        return sql, [*params, path, *params, path, *params, path]

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        sql = (
            f"COALESCE(CASE json_type({column}, %s) WHEN 'integer' THEN 'number' "
            f"WHEN 'real' THEN 'number' WHEN 'text' THEN 'string' "
            f"ELSE json_type({column}, %s) END, 'missing')"
        )
        return sql, [*params, path, *params, path]


class JsonText(JsonPath):
    """The text of a string value (NULL for any other kind), in byte order on PostgreSQL."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__(keys, CharField())

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        # COLLATE "C": ISO dates compare by bytes, as on SQLite (locale collations skip punctuation).
        sql = (
            f"(CASE WHEN jsonb_typeof({column} #> %s::text[]) = 'string' "
            f'THEN ({column} #>> %s::text[]) END) COLLATE "C"'
        )
        return sql, [*params, path, *params, path]

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        sql = f"(CASE WHEN json_type({column}, %s) = 'text' THEN json_extract({column}, %s) END)"
        return sql, [*params, path, *params, path]


class JsonNumber(JsonPath):
    """A number value as a double (NULL for any other kind; strings are never cast)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__(keys, FloatField())

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        sql = (
            f"(CASE WHEN jsonb_typeof({column} #> %s::text[]) = 'number' "
            f"THEN ({column} #>> %s::text[])::double precision END)"
        )
        return sql, [*params, path, *params, path]

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        sql = (
            f"(CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN CAST(json_extract({column}, %s) AS REAL) END)"
        )
        return sql, [*params, path, *params, path]


class JsonListHas(JsonPath):
    """True when the value is a list with an element equal (type-strict) to ``element``."""

    conditional = True

    def __init__(self, keys: tuple[str, ...], element: Scalar) -> None:
        super().__init__(keys, BooleanField())
        self.element = element

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        sql = (
            f"COALESCE(jsonb_typeof({column} #> %s::text[]) = 'array' "
            f"AND ({column} #> %s::text[]) @> %s::jsonb, false)"
        )
        return sql, [*params, path, *params, path, json.dumps([self.element])]

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        column, params, path = self._parts(compiler, connection)
        match_params: list[Any]
        element = self.element
        if isinstance(element, bool):
            match, match_params = "item.type = %s", ["true" if element else "false"]
        elif isinstance(element, int | float):
            match, match_params = "item.type IN ('integer', 'real') AND item.value = %s", [element]
        else:
            match, match_params = "item.type = 'text' AND item.value = %s", [element]
        sql = (
            f"(json_type({column}, %s) = 'array' AND EXISTS "  # noqa: S608 (keys, match: fixed SQL)
            f"(SELECT 1 FROM json_each({column}, %s) AS item WHERE {match}))"
        )
        return sql, [*params, path, *params, path, *match_params]


class Compare(Func):
    """``lhs <op> rhs`` as a boolean expression usable in ``Q``."""

    conditional = True
    arity = 2

    def __init__(self, lhs: Any, op: str, rhs: Any) -> None:
        super().__init__(lhs, rhs, output_field=BooleanField())
        self.template = "(%(expressions)s)"
        self.arg_joiner = f" {op} "


class InList(Func):
    conditional = True

    def __init__(self, lhs: Any, values: Sequence[str]) -> None:
        super().__init__(lhs, *[Value(v) for v in values], output_field=BooleanField())

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, Any]:
        lhs, *values = self.get_source_expressions()
        lhs_sql, lhs_params = compiler.compile(lhs)
        parts, params = [], list(lhs_params)
        for value in values:
            sql, value_params = compiler.compile(value)
            parts.append(sql)
            params.extend(value_params)
        return f"({lhs_sql} IN ({', '.join(parts)}))", params
