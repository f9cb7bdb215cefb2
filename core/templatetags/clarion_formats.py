"""``{% load clarion_formats %}``: Clarion's formats for its own templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from core import formats

register = template.Library()


@register.filter
def datetime_html(value: datetime | None, empty: str = "—") -> SafeString | str:
    """``{{ message.sent_at|datetime_html }}``: local time, UTC on hover (core.formats)."""
    return formats.datetime_html(value, empty=empty)
