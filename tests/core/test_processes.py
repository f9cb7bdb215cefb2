"""The supervisor behind run_clarion, with small Python programs as children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from io import StringIO

import pytest

from core import processes
from core.processes import Child, Supervisor, clarion_children, group_alive, guard_watch

SLEEPER = "import time; print('up', flush=True); time.sleep(60)"
# Stops gracefully, but takes its time (like gunicorn finishing a request).
SLOW_TO_STOP = (
    "import signal, sys, time\n"
    "def stop(signum, frame):\n"
    "    time.sleep(1.5)\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    "print('up', flush=True)\n"
    "time.sleep(60)\n"
)
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); time.sleep(60)"
)


def _child(name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code])


def _signal_self_later(signum: int, delay: float = 1.0) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


def _signal_self_once(
    out: StringIO, count: int, signum: int = signal.SIGTERM, *, again_after: float | None = None
) -> None:
    """Send ``signum`` to this process once ``count`` children have printed "up"
    (and a second time ``again_after`` seconds later, when given)."""

    def wait_then_signal() -> None:
        deadline = time.monotonic() + 20
        while out.getvalue().count("| up") < count and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signum)
        if again_after is not None:
            time.sleep(again_after)
            os.kill(os.getpid(), signum)

    threading.Thread(target=wait_then_signal, daemon=True).start()


def test_a_signal_stops_every_child_and_exits_zero() -> None:
    out = StringIO()
    supervisor = Supervisor([_child("web", SLEEPER), _child("worker", SLEEPER)], out=out)
    _signal_self_once(out, 2)

    started = time.monotonic()
    code = supervisor.run()

    assert code == 0
    assert time.monotonic() - started < 10
    assert all(p.poll() is not None for p in supervisor._processes.values())
    lines = out.getvalue().splitlines()
    assert "web     | up" in lines
    assert "worker  | up" in lines
    assert lines[-1] == "clarion | stopped"
    assert "clarion | stopping (interrupt again to force)" in lines
    assert supervisor._guard is not None
    assert supervisor._guard.returncode == 0  # told "done", it exited without killing


def test_one_interrupt_arriving_twice_is_still_a_graceful_stop() -> None:
    # Given children that take 1.5 s to stop gracefully
    out = StringIO()
    supervisor = Supervisor([_child("web", SLOW_TO_STOP), _child("worker", SLOW_TO_STOP)], out=out)
    # When one group SIGTERM reaches the supervisor twice, 0.3 s apart (the group
    # signal itself, then the copy make forwards to its child)
    _signal_self_once(out, 2, signal.SIGTERM, again_after=0.3)
    code = supervisor.run()

    # Then every child stopped on its own, nothing was killed
    assert code == 0
    assert [p.returncode for p in supervisor._processes.values()] == [0, 0]
    text = out.getvalue()
    assert "killing it" not in text
    assert "forcing" not in text
    assert text.splitlines()[-1] == "clarion | stopped"


def test_a_second_separate_interrupt_forces_the_stop() -> None:
    # Given a child that ignores SIGTERM and a long stop timeout
    out = StringIO()
    supervisor = Supervisor([_child("worker", STUBBORN)], out=out, stop_timeout=30.0)
    # When Ctrl-C is pressed, and pressed again 1.5 s later
    _signal_self_once(out, 1, signal.SIGINT, again_after=1.5)
    started = time.monotonic()
    code = supervisor.run()

    # Then the child is killed at the second press, not after the timeout
    assert code == 0
    assert time.monotonic() - started < 10
    assert supervisor._processes["worker"].returncode == -signal.SIGKILL
    lines = out.getvalue().splitlines()
    assert "clarion | second interrupt: forcing the stop" in lines
    assert "clarion | worker is still running; killing it (forced stop)" in lines
    assert lines[-1] == "clarion | stopped"


def test_a_child_that_missed_the_first_sigterm_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a child that ignores its first SIGTERM (as celery beat can while it
    # loads its schedule) and stops on the second
    deaf_once = (
        "import signal, sys\n"
        "calls = []\n"
        "def stop(signum, frame):\n"
        "    calls.append(signum)\n"
        "    if len(calls) == 2:\n"
        "        sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('up', flush=True)\n"
        "while True:\n"
        "    signal.pause()\n"
    )
    monkeypatch.setattr(processes, "REPEAT_STOP_SECONDS", 0.5)
    out = StringIO()
    supervisor = Supervisor([_child("beat", deaf_once)], out=out, stop_timeout=30.0)
    _signal_self_once(out, 1)

    # When the supervisor is stopped
    started = time.monotonic()
    code = supervisor.run()

    # Then the second request stops it gracefully, long before the timeout
    assert code == 0
    assert time.monotonic() - started < 10
    assert supervisor._processes["beat"].returncode == 0
    assert "killing it" not in out.getvalue()


def test_ctrl_c_is_handled_like_sigterm() -> None:
    out = StringIO()
    supervisor = Supervisor([_child("beat", SLEEPER)], out=out)
    _signal_self_later(signal.SIGINT)

    assert supervisor.run() == 0
    assert all(p.poll() is not None for p in supervisor._processes.values())


def test_a_child_that_dies_stops_the_others_and_its_code_is_returned() -> None:
    out = StringIO()
    dying = "import sys, time; time.sleep(0.5); print('bye', flush=True); sys.exit(3)"
    supervisor = Supervisor([_child("web", SLEEPER), _child("worker", dying)], out=out)

    code = supervisor.run()

    assert code == 3
    assert all(p.poll() is not None for p in supervisor._processes.values())
    text = out.getvalue()
    assert "worker  | bye" in text
    assert "clarion | worker exited with code 3; stopping the others" in text
    assert text.splitlines()[-1] == "clarion | stopped because worker exited with code 3"


def test_a_child_that_exits_cleanly_still_counts_as_a_failure() -> None:
    supervisor = Supervisor(
        [_child("web", SLEEPER), _child("beat", "print('done')")], out=StringIO()
    )

    assert supervisor.run() == 1


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    out = StringIO()
    supervisor = Supervisor([_child("worker", STUBBORN)], out=out, stop_timeout=1.0)
    _signal_self_once(out, 1)  # once it has ignored SIGTERM

    assert supervisor.run() == 0
    assert supervisor._processes["worker"].returncode == -signal.SIGKILL
    assert "clarion | worker did not stop in time; killing it" in out.getvalue()


def test_the_banner_is_printed_once_the_web_answers() -> None:
    out = StringIO()
    ready_after = time.monotonic() + 0.5
    supervisor = Supervisor(
        [_child("web", SLEEPER)],
        out=out,
        ready=lambda: time.monotonic() > ready_after,
        banner="READY\n",
    )
    _signal_self_later(signal.SIGTERM, delay=1.5)

    supervisor.run()

    assert out.getvalue().count("READY\n") == 1


def test_clarion_runs_gunicorn_a_worker_and_beat() -> None:
    children = clarion_children(host="0.0.0.0", port=9000, python="py")  # noqa: S104

    assert [c.name for c in children] == ["web", "worker", "beat"]
    web, worker, beat = (list(c.argv) for c in children)
    assert web[:4] == ["py", "-m", "gunicorn", "config.wsgi"]
    assert web[web.index("--bind") + 1] == "0.0.0.0:9000"
    assert web[web.index("--workers") + 1] == "2"
    assert worker[:6] == ["py", "-m", "celery", "-A", "config", "worker"]
    assert worker[worker.index("--concurrency") + 1] == "2"
    assert beat[:6] == ["py", "-m", "celery", "-A", "config", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


# --- the guard ---------------------------------------------------------------------------
def _child_with_grandchild() -> tuple[subprocess.Popen[str], int]:
    """A child in its own session that starts a grandchild; returns both pids."""
    code = (
        "import subprocess, sys, time\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(grandchild.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _reap_soon(process: subprocess.Popen[str]) -> None:
    """Reap ``process`` as soon as it exits, as init does for a dead supervisor's children."""
    threading.Thread(target=process.wait, daemon=True).start()


def test_the_guard_stops_every_child_group_when_the_supervisor_vanishes() -> None:
    # Given a running child with a grandchild in its process group
    child, grandchild = _child_with_grandchild()
    _reap_soon(child)
    out = StringIO()

    # When the supervisor's pipe ends without "done" (it was killed)
    started = time.monotonic()
    stopped = guard_watch([f"child {child.pid} web\n"], out=out, grace=1.0)

    # Then the child got SIGTERM, and the grandchild the group's SIGKILL after the grace
    assert stopped is True
    assert time.monotonic() - started < 5
    assert child.wait(timeout=5) == -signal.SIGTERM
    # (init reaps the orphaned grandchild a moment after its SIGKILL)
    assert _within(2.0, lambda: not group_alive(child.pid))
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)
    assert out.getvalue().splitlines() == [
        "clarion | the supervisor is gone; stopping web",
        "clarion | web did not stop in time; killing it",
        "clarion | stopped",
    ]


def test_the_guard_leaves_the_children_alone_when_the_supervisor_said_done() -> None:
    # Given a running child
    child, grandchild = _child_with_grandchild()
    out = StringIO()
    try:
        # When the supervisor reports that every child has stopped
        stopped = guard_watch([f"child {child.pid} web\n", "done\n"], out=out, grace=1.0)

        # Then the guard signals nothing and says nothing
        assert stopped is False
        assert child.poll() is None
        os.kill(grandchild, 0)  # still there
        assert out.getvalue() == ""
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
