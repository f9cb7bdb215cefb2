"""``manage.py run_clarion`` for real: gunicorn, a Celery worker and beat under the supervisor.

Each test starts the real command on embedded defaults (SQLite and the
filesystem broker in a folder of its own, a free port), waits until the whole
process tree is up (gunicorn's master and 2 workers, the Celery worker and its
2 pool processes, beat, and the supervisor's guard), stops it the way a person
or a machine would, and then checks every process of that tree by pid (and
start time, against pid reuse) in /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the tree in /proc"),
]

BASE_DIR = Path(settings.BASE_DIR)
START_SECONDS = 120  # migrations on a fresh SQLite file, on a busy machine
GONE_SECONDS = 10  # guard: SIGTERM, 5 s of grace, then SIGKILL of each group


@dataclass(frozen=True)
class Proc:
    pid: int
    start_time: int  # clock ticks since boot: tells a pid apart from its reuse
    state: str
    ppid: int
    cmdline: str


def _read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return Proc(pid, int(fields[19]), fields[0], int(fields[1]), raw.replace(b"\0", b" ").decode())


def _tree(root: int) -> list[Proc]:
    """``root`` and every process descending from it."""
    procs = [p for p in map(_read_proc, _all_pids()) if p is not None]
    found = [p for p in procs if p.pid == root]
    frontier = {root}
    while frontier:
        below = [p for p in procs if p.ppid in frontier and p.state != "Z"]
        found.extend(below)
        frontier = {p.pid for p in below}
    return found


def _all_pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _alive(proc: Proc) -> bool:
    now = _read_proc(proc.pid)
    return now is not None and now.start_time == proc.start_time and now.state != "Z"


def _count(tree: list[Proc], fragment: str) -> int:
    return sum(fragment in p.cmdline for p in tree)


def _full_tree_up(tree: list[Proc]) -> bool:
    return (
        _count(tree, "-m gunicorn config.wsgi") == 3
        and _count(tree, "celery -A config worker") == 3
        and _count(tree, "celery -A config beat") == 1
        and _count(tree, "--guard") == 1
    )


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_free(port: int) -> bool:
    """Nothing listens on the port: a server could bind it (as gunicorn does, SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded Clarion for the module: the first run migrates, the next reuses it."""
    return tmp_path_factory.mktemp("run-clarion")


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    # The embedded defaults `make run` uses: no shared PostgreSQL or Redis (CI sets them).
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        CLARION_DATA_DIR=str(data_dir),
        PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    supervisor: int
    tree: list[Proc]
    log: Path


def _start(argv: list[str], *, data_dir: Path, port: int, log: Path) -> Running:
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=_env(data_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group, as a shell gives a job: the group signal below
            # reaches exactly what a terminal's Ctrl-C would.
            start_new_session=True,
        )

    def supervisor_pid() -> int | None:
        return next(
            (p.pid for p in _tree(process.pid) if "manage.py run_clarion" in p.cmdline), None
        )

    tree: list[Proc] = []

    def up() -> bool:
        nonlocal tree
        assert process.poll() is None, log.read_text()
        tree = _tree(process.pid)
        return _full_tree_up(tree) and "celery@" in log.read_text()

    try:
        assert _wait_for(up, START_SECONDS), log.read_text()
        assert _wait_for(lambda: "Clarion is running at" in log.read_text(), 30), log.read_text()
        supervisor = supervisor_pid()
        assert supervisor is not None
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        for proc in _tree(process.pid):
            os.kill(proc.pid, signal.SIGKILL)
        process.wait()
        raise
    return Running(process, supervisor, tree, log)


def _clean_up(running: Running) -> None:
    """Whatever a failed test left running must not outlive it."""
    for proc in running.tree:
        if _alive(proc):
            os.kill(proc.pid, signal.SIGKILL)
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_killing_the_supervisor_takes_its_whole_tree_and_frees_the_port(
    data_dir: Path, tmp_path: Path
) -> None:
    # Given Clarion running, every process of its tree up
    port = _free_port()
    running = _start(
        [sys.executable, "manage.py", "run_clarion"],
        data_dir=data_dir,
        port=port,
        log=tmp_path / "run.log",
    )
    try:
        assert running.supervisor == running.process.pid
        assert len(running.tree) == 9  # supervisor, guard, 3 web, 3 worker, beat
        assert not _port_free(port)

        # When the supervisor is killed with SIGKILL (no chance to stop anything)
        killed_at = time.monotonic()
        os.kill(running.supervisor, signal.SIGKILL)
        assert running.process.wait(timeout=5) == -signal.SIGKILL

        # Then every process of its tree is gone within seconds, and the port is free
        others = [p for p in running.tree if p.pid != running.supervisor]
        assert _wait_for(lambda: not any(map(_alive, others)), GONE_SECONDS), [
            p.cmdline for p in others if _alive(p)
        ]
        assert time.monotonic() - killed_at < GONE_SECONDS
        assert _port_free(port)
        text = running.log.read_text()
        assert "clarion | the supervisor is gone; stopping web, worker, beat" in text
        assert text.rstrip().endswith("clarion | stopped")
    finally:
        _clean_up(running)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_group_sigterm_under_make_stops_everything_gracefully(
    data_dir: Path, tmp_path: Path
) -> None:
    # Given `make run` (make forwards a SIGTERM it receives to its child, so the
    # supervisor gets the group's signal twice), every process of the tree up
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{sys.executable} manage.py run_clarion\n")
    port = _free_port()
    running = _start(
        ["make", "--no-print-directory", "-f", str(makefile), "run"],
        data_dir=data_dir,
        port=port,
        log=tmp_path / "run.log",
    )
    try:
        assert running.supervisor != running.process.pid  # make is the parent

        # When the whole process group gets SIGTERM (kill -TERM -PGID)
        os.killpg(running.process.pid, signal.SIGTERM)

        # Then make reports the signal it got (it re-raises it once its child is done),
        # the supervisor stopped every child gracefully and exited 0 ("stopped" is its
        # last line only then), and nothing is left
        assert running.process.wait(timeout=60) == -signal.SIGTERM
        text = running.log.read_text()
        clarion_lines = [line for line in text.splitlines() if line.startswith("clarion |")]
        assert clarion_lines[-2:] == [
            "clarion | stopping (interrupt again to force)",
            "clarion | stopped",
        ]
        assert "killing it" not in text
        assert "forcing" not in text
        assert "web     | " in text and "Shutting down: Master" in text
        assert "worker: Warm shutdown (MainProcess)" in text
        assert not any(map(_alive, running.tree))
        assert _port_free(port)
    finally:
        _clean_up(running)
