"""Shared formats: the API's wire format of times, and how the admin shows them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the API writes every timestamp; None stays None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def datetime_html(value: datetime | None, *, empty: str = "—") -> SafeString | str:
    """A time as the admin shows it: in the active language and time zone, UTC on hover.

    ``<time datetime="2026-11-29T08:00:00Z" title="2026-11-29 08:00 UTC">2026年11月29日
    16:00</time>`` for a user in Asia/Taipei reading zh-Hant. Every datetime Clarion
    renders itself goes through here (templates: the ``datetime_html`` filter of
    ``clarion_formats``), and so do the admin's own list and read-only fields
    (``core.admin_display``).
    """
    if value is None:
        return empty
    if timezone.is_naive(value):  # never stored so (USE_TZ), but don't guess a zone
        return formats.localize(value)
    in_utc = value.astimezone(UTC).replace(microsecond=0)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        iso_datetime(in_utc),
        in_utc.strftime("%Y-%m-%d %H:%M UTC"),
        formats.date_format(timezone.localtime(value), "DATETIME_FORMAT"),
    )
