"""Playwright against a system Chromium (or its own) and pytest-django's live server."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator
from typing import Any

import pytest
from playwright.sync_api import Playwright

from tests.browser.chromium import OVERRIDE, ChromiumNotFound, chromium_choose, chromium_install

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


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line)
    else:
        print(line)


def _uncaptured(config: pytest.Config) -> contextlib.AbstractContextManager[None]:
    """Lets a fixture's lines (and a download's progress) reach the terminal."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        return contextlib.nullcontext()
    return capture.global_and_fixture_disabled()


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], playwright: Playwright, pytestconfig: pytest.Config
) -> dict[str, Any]:
    """A system Chromium when there is one, else Playwright's own (installed once)."""
    try:
        choice = chromium_choose(
            override=os.environ.get(OVERRIDE),
            path=os.environ.get("PATH"),
            bundled=playwright.chromium.executable_path,
        )
    except ChromiumNotFound as exc:
        pytest.fail(str(exc))
    with _uncaptured(pytestconfig):
        _say(pytestconfig, choice.describe())
        if choice.install:
            chromium_install(say=lambda line: _say(pytestconfig, line))
    launch_args = {
        **browser_type_launch_args,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
    if choice.executable is not None:
        launch_args["executable_path"] = choice.executable
    return launch_args
