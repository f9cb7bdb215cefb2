"""Database connection set-up that Django 5.2 leaves out.

SQLite: Django 5.2 assumes the 999 bound parameters per statement of SQLite
before 3.32, so a ``bulk_create`` of 100 messages (about 25 columns each) takes
three INSERTs. The library in use says how many it really allows (32,766 by
default since 3.32; Django 6.0 reads it the same way), so a trigger call's
INSERTs do not multiply with its recipients (tests/delivery/test_accept_queries.py).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def connection_tune(*, sender: Any = None, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: use the SQLite library's own parameter limit."""
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    connection.features.max_query_params = max(limit, 999)
