"""Run Clarion's processes side by side, as one command (``manage.py run_clarion``).

A small supervisor: it starts each child in its own process group, prefixes
every line a child prints with the child's name, and stops them together.

Stopping:

- The first SIGINT or SIGTERM (Ctrl-C, ``kill PID``, ``kill -TERM -PGID``) asks
  every child for a graceful stop (SIGTERM: gunicorn finishes its requests,
  Celery its running tasks; asked once more after ``REPEAT_STOP_SECONDS``) and
  waits up to ``STOP_TIMEOUT_SECONDS``; what is still running then is killed.
  The children run in their own sessions, so a group signal or a terminal's
  Ctrl-C reaches them only through the supervisor.
- One interrupt can arrive twice: a group signal reaches ``make`` and the
  supervisor, and ``make`` forwards its SIGTERM to the supervisor a moment later.
  Signals within ``SAME_INTERRUPT_SECONDS`` of the first count as that one
  interrupt; only a second, separate interrupt forces (SIGKILL at once).
- When a child dies on its own, the others are stopped and the child's exit
  code is returned, so that a broken worker never goes unnoticed behind a web
  server that still answers.
- If the supervisor itself is killed (SIGKILL, a crash), a small guard process
  (``guard_main`` below) notices the end of its pipe, sends SIGTERM to every
  child and, ``GUARD_GRACE_SECONDS`` later, SIGKILL to each child's process
  group: gunicorn's workers and Celery's pool processes included, so no orphan
  keeps the port or runs a second beat. A pipe works on Linux and macOS alike,
  unlike Linux's PR_SET_PDEATHSIG, which also reaches only the direct children.

Exit code of ``run()`` (and of ``manage.py run_clarion``): 0 after a stop that
was asked for by a signal (graceful, forced or timed out); the failing child's
code (1 if it exited with 0 or was killed by a signal) when a child exited on
its own. For production, run the processes under systemd, Kubernetes or similar
instead (docs/operations.md).

This module imports only the standard library: the guard runs it as a script
(``python -I core/processes.py --guard``) without loading Django or Celery.
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import IO, TextIO

# Celery's warm shutdown waits for running tasks; gunicorn's graceful timeout is 30 s.
STOP_TIMEOUT_SECONDS = 30.0
# make forwards a group SIGTERM to its child within milliseconds; a person who
# wants to force presses Ctrl-C again after reading "interrupt again to force".
SAME_INTERRUPT_SECONDS = 1.0
# celery beat loses a SIGTERM that lands while it loads its schedule (its handler
# closes the database under the running query, which logs the error and carries
# on), so children still running after this long are asked once more. Harmless
# for gunicorn and the Celery worker, which are already stopping.
REPEAT_STOP_SECONDS = 5.0
# After the supervisor was killed: how long the children get for a graceful stop.
# Short, because whoever killed it wants Clarion gone, port and beat included.
GUARD_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2
READY_TIMEOUT_SECONDS = 60.0
SELF = "clarion"  # the prefix of the supervisor's own lines
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


def group_alive(pgid: int) -> bool:
    """True while any process is left in the process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process exists, but is not ours to signal
        return True
    return True


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
        python: str = sys.executable,
    ) -> None:
        self.children = list(children)
        self.out = out
        self.env = dict(os.environ if env is None else env)
        # Children print through a pipe; without this Python would buffer their lines.
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.stop_timeout = stop_timeout
        self.ready = ready
        self.banner = banner
        self.python = python
        self.width = max(len(name) for name in [SELF, *(child.name for child in self.children)])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._force = threading.Event()
        self._interrupted_at: float | None = None
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: list[threading.Thread] = []
        self._guard: subprocess.Popen[str] | None = None

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
        # Only flags here: printing would take self._lock, which the interrupted
        # main thread may hold.
        now = time.monotonic()
        if self._interrupted_at is None:
            self._interrupted_at = now
            self._stop.set()
        elif now - self._interrupted_at >= SAME_INTERRUPT_SECONDS:
            self._force.set()
        # else: the same interrupt arriving twice (group signal, then make's copy).

    # --- the guard ---------------------------------------------------------------
    def _start_guard(self) -> None:
        """Start the process that stops the children if this one is killed."""
        self._guard = subprocess.Popen(  # noqa: S603 (our own interpreter and file)
            [self.python, "-I", os.path.abspath(__file__), "--guard", str(GUARD_GRACE_SECONDS)],
            stdin=subprocess.PIPE,
            text=True,
            # Its own session: a Ctrl-C or a group SIGKILL meant for the supervisor
            # must not take the guard with it.
            start_new_session=True,
        )

    def _tell_guard(self, line: str) -> None:
        if self._guard is None or self._guard.stdin is None:
            return
        try:
            self._guard.stdin.write(line + "\n")
            self._guard.stdin.flush()
        except OSError:
            self.say(SELF, "the guard process is gone; children may outlive a killed supervisor")
            self._guard.stdin = None

    def _release_guard(self) -> None:
        """Every child has stopped: tell the guard so, and let it exit."""
        if self._guard is None:
            return
        self._tell_guard("done")
        if self._guard.stdin is not None:
            with contextlib.suppress(OSError):
                self._guard.stdin.close()
        try:
            self._guard.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._guard.kill()
            self._guard.wait()

    # --- life cycle --------------------------------------------------------------
    def start(self) -> None:
        for child in self.children:
            process = subprocess.Popen(  # noqa: S603 (argv built by clarion_children)
                list(child.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                # Own session and process group: a terminal's Ctrl-C or a group signal
                # reaches only the supervisor, which then asks each child exactly once;
                # and the group holds the child's own children (gunicorn's workers,
                # Celery's pool), so killing the group leaves none behind.
                start_new_session=True,
            )
            self._processes[child.name] = process
            self._tell_guard(f"child {process.pid} {child.name}")
            assert process.stdout is not None
            thread = threading.Thread(
                target=self._pump, args=(child.name, process.stdout), daemon=True
            )
            thread.start()
            self._threads.append(thread)
            self.say(SELF, f"started {child.name} (pid {process.pid})")

    def run(self) -> int:
        """Run until a signal arrives (exit 0) or a child exits (its code, or 1)."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        failed: tuple[str, int] | None = None
        try:
            self._start_guard()
            self.start()
            if self.ready is not None:
                threading.Thread(target=self._announce_when_ready, daemon=True).start()
            failed = self._watch()
        finally:
            # Also when start() failed half-way: no child outlives the supervisor.
            self.stop()
            self._release_guard()
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
        self.say(SELF, "stopping (interrupt again to force)")
        return None

    def _all_exited(self) -> bool:
        return all(process.poll() is not None for process in self._processes.values())

    def _ask_to_stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM every running child, wait, then SIGKILL what is left."""
        self._stop.set()
        self._ask_to_stop()
        started = time.monotonic()
        asked_again = False
        while not self._all_exited() and time.monotonic() < started + self.stop_timeout:
            if self._force.wait(POLL_SECONDS):
                self.say(SELF, "second interrupt: forcing the stop")
                break
            if not asked_again and time.monotonic() >= started + REPEAT_STOP_SECONDS:
                asked_again = True
                self._ask_to_stop()
        for name, process in self._processes.items():
            if process.poll() is None and self._force.is_set():
                self.say(SELF, f"{name} is still running; killing it (forced stop)")
            elif process.poll() is None:
                self.say(SELF, f"{name} did not stop in time; killing it")
            # The whole group, always: gunicorn's workers and Celery's pool processes
            # that outlived their parent too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for thread in self._threads:
            thread.join(timeout=2)


# --- the guard: runs as its own process --------------------------------------------
def guard_watch(
    commands: Iterable[str], *, out: TextIO, grace: float = GUARD_GRACE_SECONDS
) -> bool:
    """Read the supervisor's pipe; if it ends without "done", stop every child.

    Lines are ``child PID NAME`` (a child was started; its pid is its process
    group) and ``done`` (all children stopped). The pipe ends without "done"
    only when the supervisor died without stopping its children. Returns True
    when it had to stop children.
    """
    children: dict[int, str] = {}
    for line in commands:
        word, _, rest = line.strip().partition(" ")
        if word == "done":
            return False
        if word == "child":
            number, _, name = rest.partition(" ")
            children[int(number)] = name
    if not children:
        return False
    names = ", ".join(children.values())
    _guard_say(out, f"the supervisor is gone; stopping {names}")
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(group_alive(pid) for pid in children):
        time.sleep(POLL_SECONDS)
    for pid, name in children.items():
        if group_alive(pid):
            _guard_say(out, f"{name} did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    _guard_say(out, "stopped")
    return True


def _guard_say(out: TextIO, line: str) -> None:
    # The terminal or pipe may be gone with the supervisor; stopping matters more.
    with contextlib.suppress(OSError, ValueError):
        out.write(f"{SELF} | {line}\n")
        out.flush()


def guard_main(argv: Sequence[str]) -> int:
    grace = float(argv[1]) if len(argv) > 1 else GUARD_GRACE_SECONDS
    # A terminal's Ctrl-C is for the supervisor (this process has its own session anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard_watch(sys.stdin, out=sys.stdout, grace=grace)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--guard"]:
    sys.exit(guard_main(sys.argv[1:]))
