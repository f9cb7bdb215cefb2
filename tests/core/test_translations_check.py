"""``manage.py translations_check``: missing, fuzzy and stale entries fail, allow-listed ones do not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core.management.commands.translations_check import (
    ALLOW_LIST_NAME,
    Problem,
    allow_list_read,
    allow_list_write,
    key_parse,
    key_text,
    translations_problems,
)

HEADER = """msgid ""
msgstr ""
"Language: zh_Hant\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

"""

CATALOGUE = (
    HEADER
    + """msgid "Campaign"
msgstr "行銷活動"

msgid "Audience"
msgstr ""

#, fuzzy
msgid "Profile"
msgstr "設定檔"

msgid "%(count)d message"
msgid_plural "%(count)d messages"
msgstr[0] ""

msgctxt "verb"
msgid "Schedule"
msgstr ""

msgid ""
"Two\\n"
"lines"
msgstr ""
"""
)


def _catalogue(root: Path, text: str = CATALOGUE) -> Path:
    folder = root / "locale" / "zh_Hant" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text(text, encoding="utf-8")
    return root / "locale"


def test_missing_fuzzy_and_plural_entries_are_each_a_problem(tmp_path: Path) -> None:
    locale_root = _catalogue(tmp_path)

    problems = translations_problems(
        locale_root=locale_root, locales=["zh_Hant"], allowed=set(), stale_check=False
    )

    assert problems == [
        Problem("zh_Hant", (None, "%(count)d message"), "missing"),
        Problem("zh_Hant", (None, "Audience"), "missing"),
        Problem("zh_Hant", (None, "Profile"), "fuzzy"),
        Problem("zh_Hant", ("verb", "Schedule"), "missing"),
        Problem("zh_Hant", (None, "Two\nlines"), "missing"),
    ]


def test_allow_listed_entries_are_not_problems(tmp_path: Path) -> None:
    locale_root = _catalogue(tmp_path)
    allowed = {(None, "Audience"), (None, "Profile"), ("verb", "Schedule"), (None, "Two\nlines")}

    problems = translations_problems(
        locale_root=locale_root, locales=["zh_Hant"], allowed=allowed, stale_check=False
    )

    assert problems == [Problem("zh_Hant", (None, "%(count)d message"), "missing")]


def test_the_allow_list_reads_back_what_it_wrote(tmp_path: Path) -> None:
    keys = {
        (None, "Two\nlines"),
        ("verb", "Schedule"),
        (None, "a \\ backslash"),
        (None, "tab\there"),
    }
    path = tmp_path / ALLOW_LIST_NAME

    allow_list_write(path, keys)

    assert allow_list_read(path) == keys
    assert "Two\\nlines\n" in path.read_text(encoding="utf-8")
    assert key_parse(key_text(("verb", "Schedule"))) == ("verb", "Schedule")


def test_the_command_fails_listing_what_is_not_allow_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the catalogue, and an allow-list naming all but the plural entry and "Profile"
    locale_root = _catalogue(tmp_path)
    allow_list_write(
        locale_root / ALLOW_LIST_NAME,
        {(None, "Audience"), ("verb", "Schedule"), (None, "Two\nlines"), (None, "Campaign")},
    )
    monkeypatch.setattr(settings, "BASE_DIR", tmp_path)

    # when the check runs
    with pytest.raises(CommandError, match=r"^2 translation problems"):
        call_command("translations_check", "--no-stale-check")

    # then it names the two, and the allow-listed msgid that is translated now
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "zh_Hant: missing: %(count)d message",
        "zh_Hant: fuzzy: Profile",
    ]
    assert "1 msgids of untranslated-allowed.txt are translated now" in out


def test_the_command_passes_on_a_complete_catalogue_and_prunes_the_allow_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale_root = _catalogue(
        tmp_path, HEADER + 'msgid "Campaign"\nmsgstr "行銷活動"\n\nmsgid "Audience"\nmsgstr ""\n'
    )
    allow_list_write(locale_root / ALLOW_LIST_NAME, {(None, "Audience"), (None, "Campaign")})
    monkeypatch.setattr(settings, "BASE_DIR", tmp_path)

    call_command("translations_check", "--no-stale-check", "--prune-allow-list")

    assert allow_list_read(locale_root / ALLOW_LIST_NAME) == {(None, "Audience")}


def test_write_allow_list_lists_every_incomplete_msgid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale_root = _catalogue(tmp_path)
    monkeypatch.setattr(settings, "BASE_DIR", tmp_path)

    call_command("translations_check", "--write-allow-list")

    assert allow_list_read(locale_root / ALLOW_LIST_NAME) == {
        (None, "%(count)d message"),
        (None, "Audience"),
        (None, "Profile"),
        ("verb", "Schedule"),
        (None, "Two\nlines"),
    }


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext")
def test_a_catalogue_behind_or_ahead_of_the_sources_is_stale(tmp_path: Path) -> None:
    # given the project's catalogue with one msgid taken out and one that no source has
    project = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
    text = project.read_text(encoding="utf-8")
    entry = 'msgid "Subscribe again"\nmsgstr "重新訂閱"\n'
    assert entry in text
    text = text.replace(entry, 'msgid "A string no source has"\nmsgstr "沒有"\n')
    locale_root = _catalogue(tmp_path, text)

    # when the check compares it with what makemessages finds today
    problems = translations_problems(
        locale_root=locale_root, locales=["zh_Hant"], allowed=set(), stale_check=True
    )

    # then both differences are named; nothing is written to the project's catalogue
    stale = [p for p in problems if p.what not in ("missing", "fuzzy")]
    assert stale == [
        Problem("zh_Hant", (None, "Subscribe again"), "not in the catalogue"),
        Problem("zh_Hant", (None, "A string no source has"), "no longer in the sources"),
    ]
    assert project.read_text(encoding="utf-8").count(entry) == 1
