"""Which Chromium the browser tests drive, and whether Playwright's own must be installed.

A system Chromium or Chrome when there is one (CI apt-installs Debian's
``chromium``; machines without internet cannot download browsers); otherwise
Playwright's own Chromium, downloaded once with ``playwright install chromium``
(a fresh laptop). ``CLARION_CHROMIUM`` names an executable explicitly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

OVERRIDE = "CLARION_CHROMIUM"
# Looked up on PATH, in this order: Debian's package, Ubuntu's older name, Chrome.
SYSTEM_COMMANDS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
# Where macOS keeps them (not on PATH).
SYSTEM_PATHS = (
    "/usr/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
INSTALL_COMMAND = (sys.executable, "-m", "playwright", "install", "chromium")


class ChromiumNotFound(Exception):
    """CLARION_CHROMIUM names something that is not an executable."""


@dataclass(frozen=True)
class ChromiumChoice:
    """``executable`` None means Playwright's own Chromium; ``install``: download it first."""

    executable: str | None
    install: bool

    def describe(self) -> str:
        if self.executable is not None:
            return f"Browser tests use {self.executable}."
        if self.install:
            return (
                "No system Chromium or Chrome found: installing Playwright's Chromium "
                f"once ({' '.join(['python', *INSTALL_COMMAND[1:]])}, about 150 MB)."
            )
        return "Browser tests use Playwright's own Chromium."


def chromium_choose(
    *,
    override: str | None,
    path: str | None,
    bundled: str | None,
    system_paths: Sequence[str] = SYSTEM_PATHS,
) -> ChromiumChoice:
    """Decide which Chromium to drive.

    ``override``: the CLARION_CHROMIUM value; ``path``: the PATH to search;
    ``bundled``: where Playwright's own Chromium is (or would be) installed.
    """
    if override:
        found = shutil.which(override, path=path)
        if found is None:
            raise ChromiumNotFound(f"{OVERRIDE}={override} is not an executable.")
        return ChromiumChoice(found, install=False)
    for command in SYSTEM_COMMANDS:
        found = shutil.which(command, path=path)
        if found is not None:
            return ChromiumChoice(found, install=False)
    for candidate in system_paths:
        if os.access(candidate, os.X_OK):
            return ChromiumChoice(candidate, install=False)
    installed = bundled is not None and Path(bundled).exists()
    return ChromiumChoice(None, install=not installed)


def chromium_install(
    *, say: Callable[[str], None], run: Callable[..., object] = subprocess.run
) -> None:
    """Download Playwright's Chromium (Playwright skips what it already has)."""
    run(list(INSTALL_COMMAND), check=True)
    say("Playwright's Chromium is installed.")
