"""The supervisor behind run_clarion, with small Python programs as children."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from io import StringIO

from core.processes import Child, Supervisor, clarion_children

SLEEPER = "import time; print('up', flush=True); time.sleep(60)"


def _child(name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code])


def _signal_self_later(signum: int, delay: float = 1.0) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


def _signal_self_once(out: StringIO, count: int, signum: int = signal.SIGTERM) -> None:
    """Send ``signum`` to this process once ``count`` children have printed "up"."""

    def wait_then_signal() -> None:
        deadline = time.monotonic() + 20
        while out.getvalue().count("| up") < count and time.monotonic() < deadline:
            time.sleep(0.05)
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
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    out = StringIO()
    supervisor = Supervisor([_child("worker", stubborn)], out=out, stop_timeout=1.0)
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
