"""``manage.py compile_translations``: every ``locale/*/LC_MESSAGES/django.po`` to its ``.mo``.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt``, which a fresh machine may
not have. Babel (already installed: python-liquid depends on it) writes the same
``.mo`` files in Python, so ``make install`` translates the recipient's pages on any
machine. With ``msgfmt`` present, it checks and compiles as Django does.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def po_files(root: Path) -> list[Path]:
    """The project's catalogues (not those of the virtualenv or var/)."""
    return sorted((root / "locale").glob("*/LC_MESSAGES/django.po"))


def po_compile(source: Path, target: Path) -> None:
    """Compile one catalogue with Babel; fuzzy entries are left out, as msgfmt does."""
    with source.open("rb") as po:
        catalog = read_po(po)
    with target.open("wb") as mo:
        write_mo(mo, catalog, use_fuzzy=False)


class Command(BaseCommand):
    help = "Compile the project's translations (msgfmt when installed, else Babel)."

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        if shutil.which("msgfmt"):
            call_command("compilemessages", ignore_patterns=[".venv", "var"], verbosity=0)
            return
        for source in po_files(root):
            po_compile(source, source.with_suffix(".mo"))
