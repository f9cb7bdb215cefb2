"""The processes of the trigger benchmark: start them, wait for them, stop them all.

Each child runs in its own session (process group), writes to a log file under
the benchmark's folder, and is stopped with SIGTERM to its group, then SIGKILL
after a grace period: gunicorn's and Celery's worker processes go with their
master. ``Stack`` is a context manager, so every child is stopped on success, on
an error and on Ctrl-C (bench_trigger.py turns SIGTERM into KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

STOP_GRACE_SECONDS = 15.0
PROC = Path("/proc")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def port_wait(port: int, timeout: float, child: subprocess.Popen[bytes] | None = None) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_free(port):
            return
        if child is not None and child.poll() is not None:
            raise RuntimeError(f"{child.args!r} exited with {child.returncode}")
        time.sleep(0.1)
    raise TimeoutError(f"nothing answers on port {port} after {timeout:.0f} s")


def http_wait(url: str, timeout: float) -> None:
    """Until ``url`` answers 200 (the app has loaded in a gunicorn worker)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _stat(pid_dir: Path) -> list[str] | None:
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:  # gone, or not Linux
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after "pid (name)"


def cpu_by_process(*, group: int | None = None, cmdline: str | None = None) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process of process group ``group``,
    or of those whose command line contains ``cmdline`` (PostgreSQL shows a backend as
    "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE"). Linux only: elsewhere empty."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid_dir in PROC.glob("[0-9]*"):
        fields = _stat(pid_dir)
        if fields is None:
            continue
        if group is not None and int(fields[2]) != group:
            continue
        if cmdline is not None:
            try:
                command = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if cmdline not in command:
                continue
        found[int(pid_dir.name)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


class CpuMeter:
    """CPU seconds used by a changing set of processes while the ``with`` block runs.

    Sampled every ``SAMPLE_SECONDS`` from a thread, so a process that exits during the
    block (a database backend whose connection is closed) keeps what it used up to its
    last sample; one that starts during the block counts from zero.
    """

    SAMPLE_SECONDS = 0.2

    def __init__(self, select: Callable[[], dict[int, float]]) -> None:
        self.select = select
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.SAMPLE_SECONDS):
            self.last.update(self.select())

    def __enter__(self) -> CpuMeter:
        self.first = self.select()
        self.last = dict(self.first)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.last.update(self.select())

    @property
    def seconds(self) -> float:
        return sum(value - self.first.get(pid, 0.0) for pid, value in self.last.items())


class Stack:
    """The children started so far, by name."""

    def __init__(self, folder: Path, env: Mapping[str, str], cwd: Path) -> None:
        self.folder = folder
        self.env = dict(env)
        self.cwd = cwd
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("ab") as log:
            child = subprocess.Popen(
                list(argv),
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: Ctrl-C reaches it only through us
            )
        self.children[name] = child
        return child

    def stop(self, name: str) -> None:
        child = self.children.pop(name, None)
        if child is None or child.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=STOP_GRACE_SECONDS)
        # The group's other members (workers of a master that died first) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)

    def check(self) -> None:
        """Raise if a child has died on its own."""
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {child.returncode}; see {self.folder / name}.log"
                )

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for name in reversed(list(self.children)):
            self.stop(name)
