"""Writing a few rows of several tables in one round trip.

The trigger call's write (an idempotency record, an execution, its messages and
their report counter) was four statements through the ORM, each a round trip
and most of a call's CPU (docs/performance.md, "Profile of the accept path").
Here each ``INSERT`` is built once from unsaved model instances, the way
``bulk_create`` builds it (``pre_save`` then ``get_db_prep_save`` for every
concrete field), and ``statements_run`` sends them together: on PostgreSQL as
one statement, a ``WITH`` of data-modifying parts; elsewhere (SQLite, which has
no data-modifying ``WITH``) one after the other, in order.

PostgreSQL runs every part of a ``WITH`` to completion whether or not the main
statement reads it, and checks foreign keys at the end of the statement (or, as
Django declares them, at the commit), so a message may refer to the execution
inserted beside it. No two parts may write the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with its parameters (``%s`` placeholders)."""

    sql: str
    params: Sequence[Any]


# Per model: the fields an INSERT writes, and "INSERT INTO table (columns) VALUES ".
_INSERTS: dict[type[Model], tuple[list[Field[Any, Any]], str]] = {}


def _insert_head(model: type[Model]) -> tuple[list[Field[Any, Any]], str]:
    found = _INSERTS.get(model)
    if found is None:
        meta = model._meta
        # A database-generated key (AutoField) is left out, as bulk_create leaves it.
        fields = [
            field
            for field in meta.concrete_fields
            if field is not meta.auto_field and not field.generated
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in fields)
        found = (fields, f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ")  # noqa: S608
        _INSERTS[model] = found
    return found


def insert_statement(rows: Sequence[Model], *, suffix: str = "") -> Statement:
    """The ``INSERT`` of ``rows`` (unsaved instances of one model), one ``VALUES`` row each.

    Like ``bulk_create``, it fills ``auto_now_add`` fields on the instances (their
    ``pre_save``). ``suffix`` follows the values (``ON CONFLICT ...``).
    """
    fields, head = _insert_head(type(rows[0]))
    params: list[Any] = []
    for row in rows:
        params += [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
        ]
    values = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return Statement(head + ", ".join([values] * len(rows)) + suffix, params)


def _one_statement_allowed() -> bool:
    """Whether several statements may go in one ``execute``: PostgreSQL with parameters
    bound on the client (Django's default with psycopg 3; psycopg 2 always does)."""
    if connection.vendor != "postgresql":
        return False
    return connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True


def statements_run(statements: Sequence[Statement], *, prelude: str = "") -> None:
    """Run ``statements`` in order in the current transaction: one round trip on
    PostgreSQL. ``prelude`` is a PostgreSQL statement without parameters run first
    (``SET LOCAL ...``), in the same round trip when the driver allows it; elsewhere
    it is left out.

    Nothing is returned: a part that fails (a unique key taken, a lock waited on
    too long) fails the whole, as its own statement would.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
            return
        *parts, last = statements
        sql = last.sql
        if parts:
            ctes = ", ".join(f"w{n} AS ({part.sql})" for n, part in enumerate(parts))
            sql = f"WITH {ctes} {sql}"
        params = [param for statement in statements for param in statement.params]
        if prelude and _one_statement_allowed():
            sql = f"{prelude}; {sql}"
        elif prelude:
            cursor.execute(prelude)
        cursor.execute(sql, params)
