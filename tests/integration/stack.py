"""Real Clarion processes for the delivery tests: gunicorn, Celery worker and beat, Redis.

``Clarion`` starts the processes of ``make run`` (the argv of
``core.processes.clarion_children``, or ``manage.py run_clarion`` itself) on the
test database, a broker of the test's own and a real SMTP server, with the short
sweeper timings below. Each process runs in a session of its own, so a whole
worker (its pool processes included) can be killed at once, and ``close()``
kills whatever is left, whatever the test did. The processes run the base
settings, as in production: the test settings would replace the SMTP backend.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from core.processes import clarion_children, port_answers

BASE_DIR = Path(settings.BASE_DIR)
START_SECONDS = 90  # a cold start of every process on a busy 2-core machine
# The timings the issue asks the fault tests to use: a lost publish is re-enqueued
# within about 4 s, a dead worker's claim is given back after 10 s, a retry waits ~1 s.
SHORT_TIMINGS = {
    "CLARION_SWEEP_INTERVAL_SECONDS": "1",
    "CLARION_SWEEP_GRACE_SECONDS": "3",
    "CLARION_CLAIM_LEASE_SECONDS": "10",
    "CLARION_SEND_RETRY_BASE_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}{port}/{quote(db['NAME'])}"


def uses_redis() -> bool:
    """The suite runs on Redis (CI) rather than the embedded filesystem broker."""
    return str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://"))


# --- processes ------------------------------------------------------------------------
def _start_time(pid: int) -> int | None:
    """Clock ticks since boot when ``pid`` started (tells a pid from its reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


def _parents() -> dict[int, int]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                found[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return found


def descendants(root: int) -> set[tuple[int, int]]:
    """``root`` and every process below it, as (pid, start time)."""
    parents = _parents()
    pids, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - pids
        pids |= frontier
    return {(pid, start) for pid in pids if (start := _start_time(pid)) is not None}


def _kill(procs: set[tuple[int, int]], signum: int) -> None:
    for pid, start in procs:
        if _start_time(pid) == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


@dataclass
class Launched:
    """One process started by a test, in a session (and process group) of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    seen: set[tuple[int, int]] = field(default_factory=set)  # its tree, as last seen

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def tree(self) -> set[tuple[int, int]]:
        if self.running():
            self.seen |= descendants(self.pid)
        return self.seen

    def kill(self) -> None:
        """SIGKILL the process and everything below it at once (as a crash would)."""
        procs = self.tree()
        _kill(procs, signal.SIGSTOP)  # frozen first: nothing forks or restarts a child
        procs |= self.tree()
        _kill(procs, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()
        wait_for(lambda: all(_start_time(pid) != start for pid, start in procs), 10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a graceful stop), then SIGKILL what is left after ``timeout``."""
        if self.running():
            self.tree()
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        self.kill()


def launch(name: str, argv: list[str], *, env: dict[str, str], log_dir: Path) -> Launched:
    log = log_dir / f"{name}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Launched(name, process, log)


class RedisServer:
    """A redis-server of the test's own, without persistence: a restart starts it empty."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.launched: list[Launched] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        # No persistence (as the machine's own Redis): a restart starts empty.
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        argv += ["--dir", str(self.log_dir)]
        server = launch("redis", argv, env=dict(os.environ), log_dir=self.log_dir)
        self.launched.append(server)
        assert wait_for(self.answers, 10), server.output()

    def stop(self) -> None:
        """A graceful shutdown (SIGTERM); every queued task is gone with it."""
        server = self.launched[-1]
        server.stop(timeout=10)
        assert not self.answers()

    def close(self) -> None:
        for server in self.launched:
            server.kill()


# --- Clarion ---------------------------------------------------------------------------
class Clarion:
    """The processes of one Clarion on the test's database, broker and SMTP server."""

    def __init__(self, *, data_dir: Path, broker_url: str, smtp_url: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.broker_url = broker_url
        self.smtp_url = smtp_url
        self.launched: list[Launched] = []
        # Settings of this test's own, over the defaults (set before ``start``).
        self.extra_env: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
            env.pop(name, None)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=self.broker_url,
            CLARION_DATA_DIR=str(self.data_dir),
            EMAIL_URL=self.smtp_url,
            HOST="127.0.0.1",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
            **SHORT_TIMINGS,
        )
        env.update(self.extra_env)
        return env

    def _argv(self, name: str) -> list[str]:
        children = clarion_children(host="127.0.0.1", port=self.port, python=sys.executable)
        return list(next(child.argv for child in children if child.name == name))

    def _launch(self, name: str, argv: list[str]) -> Launched:
        process = launch(name, argv, env=self.env(), log_dir=self.data_dir)
        self.launched.append(process)
        return process

    def _wait_ready(self, process: Launched, ready: Callable[[], bool]) -> None:
        def up() -> bool:
            assert process.running(), f"{process.name} exited:\n{process.output()}"
            return ready()

        assert wait_for(up, START_SECONDS, 0.2), f"{process.name} not ready:\n{process.output()}"
        process.tree()

    def _ready(self, process: Launched) -> Callable[[], bool]:
        if process.name == "web":
            return lambda: port_answers("127.0.0.1", self.port)
        mark = " ready." if process.name == "worker" else "beat: Starting..."
        return lambda: mark in process.output()

    def start(self, *names: str) -> dict[str, Launched]:
        """Start some of ``web``, ``worker`` and ``beat`` together; wait until each is up."""
        started = {name: self._launch(name, self._argv(name)) for name in names}
        for process in started.values():
            self._wait_ready(process, self._ready(process))
        return started

    def start_run_clarion(self) -> Launched:
        """``manage.py run_clarion`` (what ``make run`` runs): web, worker and beat."""
        run = self._launch("run_clarion", [sys.executable, "manage.py", "run_clarion"])

        def ready() -> bool:
            text = run.output()
            return all(
                mark in text for mark in ("Clarion is running at", " ready.", "beat: Starting")
            )

        self._wait_ready(run, ready)
        return run

    def outputs(self) -> str:
        """Every process's output (less the web's access log), for an assertion message."""
        texts = []
        for process in self.launched:
            lines = [line for line in process.output().splitlines() if " HTTP/1.1" not in line]
            texts.append(f"----- {process.name}\n" + "\n".join(lines[-80:]))
        return "\n".join(texts)

    def close(self) -> None:
        for process in reversed(self.launched):
            process.kill()


@contextlib.contextmanager
def clarion(*, data_dir: Path, broker_url: str, smtp_url: str) -> Iterator[Clarion]:
    running = Clarion(data_dir=data_dir, broker_url=broker_url, smtp_url=smtp_url)
    try:
        yield running
    finally:
        running.close()
