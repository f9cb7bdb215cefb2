"""The admin's own rendering of datetimes, made Clarion's: local time, UTC on hover.

The admin renders a model's datetime (a list column, a read-only field, an inline)
through ``django.contrib.admin.utils.display_for_field``, and a display method's
datetime through ``display_for_value``; neither has a hook. ``install`` wraps both
where the admin's list and form helpers call them, so every datetime the admin shows
goes through ``core.formats.datetime_html``, as Clarion's own templates do, instead
of each ModelAdmin re-declaring its datetime columns as methods.
Checked by tests/core/test_preferences_admin.py (a list and a change page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.templatetags import admin_list
from django.db import models

from core.formats import datetime_html

_display_for_field = admin_utils.display_for_field
_display_for_value = admin_utils.display_for_value


def display_for_field(
    value: Any, field: Any, empty_value_display: str, *args: Any, **kwargs: Any
) -> Any:
    if (
        isinstance(field, models.DateTimeField)
        and isinstance(value, datetime)
        and not getattr(field, "flatchoices", None)
    ):
        return datetime_html(value, empty=empty_value_display)
    return _display_for_field(value, field, empty_value_display, *args, **kwargs)


def display_for_value(value: Any, empty_value_display: str, *args: Any, **kwargs: Any) -> Any:
    if isinstance(value, datetime):
        return datetime_html(value, empty=empty_value_display)
    return _display_for_value(value, empty_value_display, *args, **kwargs)


def install() -> None:
    """Called once, from ``CoreConfig.ready``."""
    helpers.display_for_field = display_for_field  # type: ignore[attr-defined]
    admin_list.display_for_field = display_for_field  # type: ignore[attr-defined]
    admin_list.display_for_value = display_for_value  # type: ignore[attr-defined]


class DualListHelpMixin:
    """For a ModelAdmin with ``filter_horizontal``/``filter_vertical`` fields: their help
    is the model field's own, without the "Hold down Control, or Command on a Mac"
    line Django adds to every multiple select, which a dual list (pick on the left,
    move to the right) does not need."""

    def formfield_for_manytomany(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        dual_lists = (
            *getattr(self, "filter_horizontal", ()),
            *getattr(self, "filter_vertical", ()),
        )
        if field is not None and db_field.name in dual_lists:
            field.help_text = db_field.help_text
        return field
