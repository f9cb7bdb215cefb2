"""Shared wire formats of the API."""

from __future__ import annotations

from datetime import datetime


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the API writes every timestamp; None stays None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
