"""Which Chromium the browser tests drive, decided on a fake PATH (nothing is downloaded)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import (
    ChromiumChoice,
    ChromiumNotFound,
    chromium_choose,
    chromium_install,
)


def _bin(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        stub = folder / name
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    return folder


def _bundled(tmp_path: Path, *, installed: bool) -> str:
    """Where Playwright keeps its own Chromium; created when ``installed``."""
    path = tmp_path / "ms-playwright" / "chromium-1255" / "chrome-linux64" / "chrome"
    if installed:
        path.parent.mkdir(parents=True)
        path.write_text("")
    return str(path)


@pytest.mark.parametrize(
    ("on_path", "chosen"),
    [
        (["chromium"], "chromium"),
        (["chromium-browser"], "chromium-browser"),
        (["google-chrome"], "google-chrome"),
        (["google-chrome-stable"], "google-chrome-stable"),
        # Debian's chromium before Chrome when both are there.
        (["google-chrome", "chromium"], "chromium"),
    ],
)
def test_a_system_chromium_on_path_is_used_and_nothing_is_installed(
    tmp_path: Path, on_path: list[str], chosen: str
) -> None:
    # Given a PATH holding these browsers, and no Playwright Chromium
    folder = _bin(tmp_path, *on_path)

    # When the browser tests choose
    choice = chromium_choose(
        override=None,
        path=str(folder),
        bundled=_bundled(tmp_path, installed=False),
        system_paths=(),
    )

    # Then they drive the system one and install nothing
    assert choice == ChromiumChoice(str(folder / chosen), install=False)
    assert choice.describe() == f"Browser tests use {folder / chosen}."


def test_without_a_system_chromium_playwrights_own_is_installed_once(tmp_path: Path) -> None:
    # Given no browser on PATH nor in the usual places, and Playwright's not downloaded yet
    folder = _bin(tmp_path, "python3", "firefox")

    # When the browser tests choose
    choice = chromium_choose(
        override=None,
        path=str(folder),
        bundled=_bundled(tmp_path, installed=False),
        system_paths=(str(tmp_path / "Applications" / "Chromium"),),
    )

    # Then Playwright's own Chromium is used, after installing it, and the line says so
    assert choice == ChromiumChoice(None, install=True)
    assert choice.describe() == (
        "No system Chromium or Chrome found: installing Playwright's Chromium once "
        "(python -m playwright install chromium, about 150 MB)."
    )


def test_playwrights_chromium_already_installed_is_not_installed_again(tmp_path: Path) -> None:
    # Given no system browser, and Playwright's Chromium downloaded on an earlier run
    folder = _bin(tmp_path)

    # When the browser tests choose
    choice = chromium_choose(
        override=None, path=str(folder), bundled=_bundled(tmp_path, installed=True), system_paths=()
    )

    # Then they use it without installing
    assert choice == ChromiumChoice(None, install=False)
    assert choice.describe() == "Browser tests use Playwright's own Chromium."


def test_a_browser_outside_path_is_found_in_the_usual_places(tmp_path: Path) -> None:
    # Given an empty PATH and a Chrome where macOS puts it
    app = _bin(tmp_path, "Google Chrome") / "Google Chrome"

    # When the browser tests choose
    choice = chromium_choose(
        override=None,
        path=str(tmp_path / "empty"),
        bundled=_bundled(tmp_path, installed=False),
        system_paths=(str(tmp_path / "missing"), str(app)),
    )

    # Then that one is used
    assert choice == ChromiumChoice(str(app), install=False)


def test_clarion_chromium_wins_over_path(tmp_path: Path) -> None:
    # Given chromium on PATH and CLARION_CHROMIUM naming another executable
    folder = _bin(tmp_path, "chromium")
    other = _bin(tmp_path, "my-chrome") / "my-chrome"

    # When the browser tests choose
    choice = chromium_choose(
        override=str(other),
        path=str(folder),
        bundled=_bundled(tmp_path, installed=False),
        system_paths=(),
    )

    # Then the named one is used
    assert choice == ChromiumChoice(str(other), install=False)


def test_clarion_chromium_naming_nothing_is_an_error(tmp_path: Path) -> None:
    # Given CLARION_CHROMIUM naming a file that does not exist, and chromium on PATH
    folder = _bin(tmp_path, "chromium")

    # When the browser tests choose, then they refuse rather than use another browser
    with pytest.raises(ChromiumNotFound, match=r"CLARION_CHROMIUM=/nowhere/chrome is not an"):
        chromium_choose(
            override="/nowhere/chrome",
            path=str(folder),
            bundled=_bundled(tmp_path, installed=False),
            system_paths=(),
        )


def test_the_install_runs_playwrights_installer_and_says_so() -> None:
    # Given a recorder in place of subprocess.run (nothing is downloaded here)
    calls: list[tuple[list[str], dict[str, Any]]] = []
    said: list[str] = []

    # When the install runs
    chromium_install(say=said.append, run=lambda argv, **kwargs: calls.append((argv, kwargs)))

    # Then it ran `python -m playwright install chromium` once, failing loudly, and said so
    assert calls == [([sys.executable, "-m", "playwright", "install", "chromium"], {"check": True})]
    assert said == ["Playwright's Chromium is installed."]
