"""``manage.py update_translations`` (``make messages``): the catalogues from the sources.

Runs Django's ``makemessages`` for every language Clarion ships besides English, with
the options that keep the ``.po`` files reproducible: no line numbers (``--no-location``,
so moving code does not rewrite the catalogue), no obsolete entries, and the folders
that hold no product strings left out. Existing translations are kept (``msgmerge``).
Needs GNU gettext (``xgettext``, ``msgmerge``).

The admin's scripts show no string of their own: templates hand them their words
(``data-label-*`` attributes, JSON settings), so there is no ``djangojs`` catalogue.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# The catalogues Clarion keeps, as their folder names under locale/.
CATALOGUE_LOCALES = ["zh_Hant"]

# Folders whose strings no user reads: tools, tests, data, installed packages.
IGNORE_PATTERNS = [
    ".venv",
    "benchmarks",
    "tests",
    "var",
    "node_modules",
    "build",
    "*.egg-info",
    "staticfiles",
]

MAKEMESSAGES_OPTIONS: dict[str, Any] = {
    "domain": "django",
    "ignore_patterns": IGNORE_PATTERNS,
    "no_location": True,
    "no_obsolete": True,
}


def messages_make(
    *, locales: list[str] | None = None, verbosity: int = 0, command: BaseCommand | None = None
) -> None:
    """Run makemessages (or ``command``, a variant of it) from the project's root."""
    here = os.getcwd()
    os.chdir(settings.BASE_DIR)
    try:
        call_command(
            command or "makemessages",
            locale=locales or CATALOGUE_LOCALES,
            verbosity=verbosity,
            **MAKEMESSAGES_OPTIONS,
        )
    finally:
        os.chdir(here)


class Command(BaseCommand):
    help = "Update locale/*/LC_MESSAGES/django.po from the sources (keeps translations)."

    def handle(self, *args: Any, **options: Any) -> None:
        messages_make(verbosity=options["verbosity"])
