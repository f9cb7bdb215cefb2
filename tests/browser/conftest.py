"""Playwright against Debian's chromium and pytest-django's live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CLARION_CHROMIUM", "/usr/bin/chromium")


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


# Playwright's sync API runs an event loop in the test thread, so Django would refuse the
# (synchronous, safe) ORM calls of the test body and of the database flush afterwards.
# Allowed around each browser test only, setup to teardown: subprocesses that other tests
# start (``check --deploy``) must not inherit it.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None]:
    os.environ[ASYNC_UNSAFE] = "true"
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    yield
    os.environ.pop(ASYNC_UNSAFE, None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: `playwright install` cannot download browsers here."""
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is not installed: run `apt-get install -y chromium` (.ci/run does)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
