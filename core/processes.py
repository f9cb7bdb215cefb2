"""Run Clarion's processes side by side, as one command (``manage.py run_clarion``).

A small supervisor: it starts each child in its own process group, prefixes
every line a child prints with the child's name, forwards SIGINT/SIGTERM to
all children as SIGTERM (a graceful stop for gunicorn and Celery alike) and
waits for them. When one child dies on its own, it stops the others and
reports failure, so that a broken worker never goes unnoticed behind a web
server that still answers. For production, run the processes under systemd,
Kubernetes or similar instead (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import IO, TextIO

# Celery's warm shutdown waits for running tasks; gunicorn's graceful timeout is 30 s.
STOP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2
READY_TIMEOUT_SECONDS = 60.0
SELF = "clarion"  # the prefix of the supervisor's own lines


@dataclass(frozen=True)
class Child:
    """One process to run: a short name (used as the output prefix) and its argv."""

    name: str
    argv: Sequence[str]


def clarion_children(*, host: str, port: int, python: str = sys.executable) -> list[Child]:
    """The three processes of a one-machine Clarion: web, worker and beat."""
    return [
        Child(
            "web",
            [
                python, "-m", "gunicorn", "config.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", "2",
                "--access-logfile", "-",
                # Its default path in $HOME would clash between two instances on one machine.
                "--no-control-socket",
            ],
        ),
        Child(
            "worker",
            [python, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
        ),
        Child(
            "beat",
            [
                python, "-m", "celery", "-A", "config", "beat", "-l", "info",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        ),
    ]  # fmt: skip


def port_answers(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
    try:
        with socket.create_connection((connect_host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Supervisor:
    """Starts children, streams their output, and stops them all together."""

    def __init__(
        self,
        children: Sequence[Child],
        *,
        out: TextIO,
        env: Mapping[str, str] | None = None,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
        ready: Callable[[], bool] | None = None,
        banner: str = "",
    ) -> None:
        self.children = list(children)
        self.out = out
        self.env = dict(os.environ if env is None else env)
        # Children print through a pipe; without this Python would buffer their lines.
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.stop_timeout = stop_timeout
        self.ready = ready
        self.banner = banner
        self.width = max(len(name) for name in [SELF, *(child.name for child in self.children)])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._signals = 0
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: list[threading.Thread] = []

    # --- output ------------------------------------------------------------------
    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name.ljust(self.width)} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", errors="replace"))
        stream.close()

    def _announce_when_ready(self) -> None:
        assert self.ready is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self._stop.is_set() and time.monotonic() < deadline:
            if self.ready():
                with self._lock:
                    self.out.write(self.banner)
                    self.out.flush()
                return
            self._stop.wait(POLL_SECONDS)

    # --- signals -----------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self._stop.set()

    # --- life cycle --------------------------------------------------------------
    def start(self) -> None:
        for child in self.children:
            process = subprocess.Popen(  # noqa: S603 (argv built by clarion_children)
                list(child.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                # Own process group: a terminal's Ctrl-C reaches only the supervisor,
                # which then stops each child exactly once.
                start_new_session=True,
            )
            self._processes[child.name] = process
            assert process.stdout is not None
            thread = threading.Thread(
                target=self._pump, args=(child.name, process.stdout), daemon=True
            )
            thread.start()
            self._threads.append(thread)
            self.say(SELF, f"started {child.name} (pid {process.pid})")

    def run(self) -> int:
        """Run until a signal arrives (exit 0) or a child exits (non-zero)."""
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.start()
            if self.ready is not None:
                threading.Thread(target=self._announce_when_ready, daemon=True).start()
            failed = self._watch()
            self.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if failed is None:
            self.say(SELF, "stopped")
            return 0
        name, code = failed
        self.say(SELF, f"stopped because {name} exited with code {code}")
        return code if code > 0 else 1

    def _watch(self) -> tuple[str, int] | None:
        """Wait for a stop request or the first child to exit."""
        while not self._stop.is_set():
            for name, process in self._processes.items():
                code = process.poll()
                if code is not None:
                    self.say(SELF, f"{name} exited with code {code}; stopping the others")
                    return name, code
            self._stop.wait(POLL_SECONDS)
        self.say(SELF, "stopping (again to force)")
        return None

    def stop(self) -> None:
        """SIGTERM every running child, wait, then SIGKILL what is left."""
        self._stop.set()
        for process in self._processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        signals_before = self._signals
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and self._signals <= signals_before:
            if all(process.poll() is not None for process in self._processes.values()):
                break
            time.sleep(POLL_SECONDS)
        for name, process in self._processes.items():
            # The whole group: gunicorn workers and Celery pool processes too.
            if process.poll() is None:
                self.say(SELF, f"{name} did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for thread in self._threads:
            thread.join(timeout=2)
