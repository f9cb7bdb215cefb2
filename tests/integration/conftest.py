"""Fixtures of the integration tests: a real SMTP server, a broker, Clarion's processes.

Every process a test starts is killed when the test ends, passed or failed, and
before pytest-django empties the database (``clarion`` depends on
``transactional_db``, so it is torn down first).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.integration.smtp_sink import SmtpSink
from tests.integration.stack import Clarion, RedisServer, free_port, uses_redis


class ClarionFactory(Protocol):
    def __call__(self, *, broker_url: str = ...) -> Clarion: ...


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on a free loopback port (``EMAIL_URL`` of the processes)."""
    sink = SmtpSink(free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop and start again."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The broker of the suite's kind, empty: Redis when the suite runs on Redis (CI),
    in a redis-server of the test's own so that no task another test left behind
    reaches its worker; else the embedded filesystem broker in the test's folder."""
    if not uses_redis():
        return "filesystem://localhost//"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
def clarion(
    transactional_db: None, tmp_path: Path, smtp_sink: SmtpSink, broker_url: str
) -> Iterator[ClarionFactory]:
    """``clarion()``: a Clarion on the test database, sending to ``smtp_sink``; its
    processes are started by the test (``start("web", "worker")``...)."""
    made: list[Clarion] = []

    def make(*, broker_url: str = broker_url) -> Clarion:
        data_dir = tmp_path / f"clarion-{len(made)}"
        data_dir.mkdir()
        running = Clarion(
            data_dir=data_dir,
            broker_url=broker_url,
            smtp_url=smtp_sink.url,
        )
        made.append(running)
        return running

    try:
        yield make
    finally:
        for running in made:
            running.close()
