"""``manage.py translations_check`` (part of ``make check``): every catalogue complete and current.

Fails, listing them, on

- an entry of a ``locale/<locale>/LC_MESSAGES/django.po`` whose translation is missing
  (an empty ``msgstr``, or an empty plural form) or marked fuzzy, unless its msgid is
  in ``locale/untranslated-allowed.txt``;
- a stale catalogue: ``makemessages``, run into a temporary folder with the options of
  ``make messages``, finds msgids the committed ``.po`` lacks, or no longer finds some
  it has (run ``make messages``).

The allow-list holds the msgids not translated yet when the check started (issue 10);
translators empty it. ``--prune-allow-list`` drops the lines whose msgid is now
translated; ``--write-allow-list`` rewrites it with every incomplete msgid (for a new
catalogue only: it hides what is missing).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.commands import makemessages
from django.test.utils import override_settings

from core.management.commands.update_translations import (
    CATALOGUE_LOCALES,
    messages_make,
)

ALLOW_LIST_NAME = "untranslated-allowed.txt"
ALLOW_LIST_HEADER = """\
# msgids of locale/*/LC_MESSAGES/django.po that may still lack a translation, or be
# fuzzy: `manage.py translations_check` (make check) fails on any other. One msgid a
# line; a newline in a msgid is written \\n, a backslash \\\\, a tab \\t; a msgctxt comes
# first, followed by a tab. Translators empty this file (issue 10); then delete it.
"""

Key = tuple[str | None, str]  # (msgctxt, msgid); a plural entry by its singular


@dataclass(frozen=True)
class Problem:
    locale: str
    key: Key
    what: str  # "missing", "fuzzy", "not in the catalogue", "no longer in the sources"

    def __str__(self) -> str:
        return f"{self.locale}: {self.what}: {key_text(self.key)}"


def key_text(key: Key) -> str:
    """One allow-list line for a msgid (see ALLOW_LIST_HEADER)."""
    context, msgid = key

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")

    return f"{escape(context)}\t{escape(msgid)}" if context is not None else escape(msgid)


def key_parse(line: str) -> Key:
    """The msgid a line of the allow-list names."""

    def unescape(text: str) -> str:
        out: list[str] = []
        chars = iter(text)
        for char in chars:
            if char == "\\":
                following = next(chars, "")
                out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(following, "\\" + following))
            else:
                out.append(char)
        return "".join(out)

    if "\t" in line:
        context, msgid = line.split("\t", 1)
        return unescape(context), unescape(msgid)
    return None, unescape(line)


def allow_list_read(path: Path) -> set[Key]:
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {key_parse(line) for line in lines if line.strip() and not line.startswith("#")}


def allow_list_write(path: Path, keys: Iterable[Key]) -> None:
    lines = sorted({key_text(key) for key in keys})
    path.write_text(ALLOW_LIST_HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")


def catalogue_read(path: Path, *, strict: bool = True) -> Catalog:
    """A catalogue; ``strict`` refuses a malformed one (a fresh makemessages output is
    not strict: its header's Plural-Forms is a placeholder)."""
    # Babel prints (not logs) what it forgives in a non-strict read.
    with path.open("rb") as po, contextlib.redirect_stdout(io.StringIO()):
        return read_po(po, abort_invalid=strict)


def _msgid(message: Any) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def catalogue_keys(catalogue: Catalog) -> set[Key]:
    return {(message.context, _msgid(message)) for message in catalogue if message.id}


def catalogue_incomplete(catalogue: Catalog) -> dict[Key, str]:
    """Entries a reader would see in English: {key: "missing" | "fuzzy"}."""
    found: dict[Key, str] = {}
    for message in catalogue:
        if not message.id:  # the header
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        key = (message.context, _msgid(message))
        if not strings or not all(strings):
            found[key] = "missing"
        elif message.fuzzy:
            found[key] = "fuzzy"
    return found


class _MakeMessagesInto(makemessages.Command):
    """makemessages writing every file's strings to one folder (``target``)."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = str(target)

    def find_files(self, root: str) -> list[Any]:
        return [
            self.translatable_file_class(found.dirpath, found.file, self.target)
            for found in super().find_files(root)
        ]


def sources_keys(locale: str) -> set[Key]:
    """The msgids ``make messages`` would put in ``locale``'s catalogue today."""
    if not shutil.which("xgettext"):
        raise CommandError(
            "The stale-catalogue check runs GNU gettext's xgettext: install gettext "
            "(apt-get install gettext), or pass --no-stale-check."
        )
    with tempfile.TemporaryDirectory(prefix="clarion-messages-") as folder:
        target = Path(folder)
        with override_settings(LOCALE_PATHS=[target]):
            messages_make(locales=[locale], command=_MakeMessagesInto(target))
        fresh = target / locale / "LC_MESSAGES" / "django.po"
        return catalogue_keys(catalogue_read(fresh, strict=False)) if fresh.exists() else set()


def translations_problems(
    *, locale_root: Path, locales: Iterable[str], allowed: set[Key], stale_check: bool = True
) -> list[Problem]:
    """Every problem of the catalogues under ``locale_root``, in a stable order."""
    problems: list[Problem] = []
    for locale in locales:
        path = locale_root / locale / "LC_MESSAGES" / "django.po"
        if not path.exists():
            raise CommandError(f"No catalogue at {path}: run `make messages`.")
        catalogue = catalogue_read(path)
        for key, what in sorted(catalogue_incomplete(catalogue).items(), key=_order):
            if key not in allowed:
                problems.append(Problem(locale, key, what))
        if stale_check:
            committed = catalogue_keys(catalogue)
            wanted = sources_keys(locale)
            for key in sorted(wanted - committed, key=_key_order):
                problems.append(Problem(locale, key, "not in the catalogue"))
            for key in sorted(committed - wanted, key=_key_order):
                problems.append(Problem(locale, key, "no longer in the sources"))
    return problems


def _key_order(key: Key) -> tuple[str, str]:
    return (key[1], key[0] or "")


def _order(item: tuple[Key, str]) -> tuple[str, str]:
    return _key_order(item[0])


class Command(BaseCommand):
    help = (
        "Fail on a missing or fuzzy translation not in locale/untranslated-allowed.txt, "
        "or on a catalogue that is not up to date with the sources."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-stale-check",
            action="store_false",
            dest="stale_check",
            help="Skip running makemessages (which needs GNU gettext).",
        )
        parser.add_argument(
            "--prune-allow-list",
            action="store_true",
            help="Drop the allow-list's lines whose msgid is translated now.",
        )
        parser.add_argument(
            "--write-allow-list",
            action="store_true",
            help="Rewrite the allow-list with every missing or fuzzy msgid.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        locale_root = Path(settings.BASE_DIR) / "locale"
        allow_list = locale_root / ALLOW_LIST_NAME
        allowed = allow_list_read(allow_list)
        incomplete: set[Key] = set()
        for locale in CATALOGUE_LOCALES:
            path = locale_root / locale / "LC_MESSAGES" / "django.po"
            if path.exists():
                incomplete |= set(catalogue_incomplete(catalogue_read(path)))
        if options["write_allow_list"]:
            allow_list_write(allow_list, incomplete)
            self.stdout.write(f"{allow_list}: {len(incomplete)} msgids.")
            return
        done = allowed - incomplete
        if options["prune_allow_list"]:
            allow_list_write(allow_list, allowed & incomplete)
            self.stdout.write(f"{allow_list}: {len(done)} translated msgids dropped.")
            allowed &= incomplete
            done = set()
        problems = translations_problems(
            locale_root=locale_root,
            locales=CATALOGUE_LOCALES,
            allowed=allowed,
            stale_check=options["stale_check"],
        )
        if done:
            self.stdout.write(
                f"{len(done)} msgids of {allow_list.name} are translated now: "
                "`manage.py translations_check --prune-allow-list` drops them."
            )
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(problems)} translation problems (`make messages` updates the "
                "catalogues; translate the missing and fuzzy entries)."
            )
        if options["verbosity"]:
            self.stdout.write(
                f"Translations complete ({len(allowed & incomplete)} msgids allow-listed)."
            )
