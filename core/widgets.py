"""Admin widgets Clarion uses in place of Django's, for accessibility (issue 10)."""

from __future__ import annotations

from django.contrib.admin.widgets import AdminSplitDateTime


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, each named by its own ``<label>``.

    Django's template writes "Date:" and "Time:" as bare text, so the two inputs have
    no accessible name (axe-core ``label``; WCAG 2.1 1.3.1 and 4.1.2).
    """

    template_name = "admin/widgets/labelled_split_datetime.html"
