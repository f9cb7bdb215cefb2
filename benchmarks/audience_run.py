"""One audience send of the audience benchmarks: trigger, wait for every message to be
final, and sample the Celery worker processes' memory meanwhile.

Used by benchmarks/bench_audience.py. The figure is messages per second from the
execution's acceptance (its ``created_at``) to the last message's ``sent_at`` or
``updated_at``, both read from the database, so the polling interval adds nothing.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

PROC = Path("/proc")
FINAL = ("sent", "failed", "excluded")
POLL_SECONDS = 0.5
STALL_SECONDS = 90  # a send that has not started by then never will: fail fast


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_pids(group: int) -> list[int]:
    found = []
    for pid_dir in PROC.glob("[0-9]*"):
        try:
            text = (pid_dir / "stat").read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[2]) == group:
            found.append(int(pid_dir.name))
    return found


class MemorySampler:
    """Peak RSS (``VmHWM``, and the largest ``VmRSS`` seen) of each worker process:
    the Celery master's children (the prefork pool), sampled every POLL_SECONDS."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        for pid in group_pids(self.master):
            if pid == self.master:
                continue
            kib = max(_status_kib(pid, "VmHWM"), _status_kib(pid, "VmRSS"))
            self.peak[pid] = max(self.peak.get(pid, 0), kib)

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return round(max(self.peak.values(), default=0) / 1024, 1)


def messages_reset(database_url: str) -> None:
    """Empty the message tables between runs (rows referencing messages go too)."""
    with psycopg.connect(database_url, autocommit=True) as pg:
        pg.execute("TRUNCATE delivery_message CASCADE")
        pg.execute("TRUNCATE delivery_execution CASCADE")
        pg.execute("VACUUM ANALYZE")


def audience_send(
    *,
    database_url: str,
    env: dict[str, str],
    root: Path,
    python: str,
    campaign: str,
    audience: str,
    expected: int,
    timeout: float,
    check: Any,
) -> dict[str, Any]:
    """Trigger one execution and wait until ``expected`` messages are final (or timeout)."""
    done = subprocess.run(
        [python, "benchmarks/audience_seed.py", "trigger", "--campaign", campaign,
         "--audience", audience],
        cwd=root, env={**env, "CLARION_ENQUEUE_IN_BACKGROUND": "false"}, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    execution = json.loads(done.stdout.strip().splitlines()[-1])["execution"]
    query = """
        SELECT count(*) FILTER (WHERE status = ANY(%s)),
               count(*) FILTER (WHERE status = 'sent'),
               max(GREATEST(sent_at, updated_at)),
               (SELECT created_at FROM delivery_execution WHERE id = %s)
        FROM delivery_message WHERE execution_id = %s
    """
    started = time.monotonic()
    deadline = started + timeout
    with psycopg.connect(database_url, autocommit=True) as pg:
        while True:
            final, sent, last, accepted = pg.execute(
                query, [list(FINAL), execution, execution]
            ).fetchone()  # type: ignore[misc]
            if final >= expected or time.monotonic() > deadline:
                break
            if not final and time.monotonic() > started + STALL_SECONDS:
                raise RuntimeError(
                    f"no message final after {STALL_SECONDS} s: see the worker's log"
                )
            check()
            time.sleep(POLL_SECONDS)
    seconds = (last - accepted).total_seconds() if last and accepted else float("nan")
    return {
        "execution": execution,
        "final": final,
        "sent": sent,
        "expected": expected,
        "complete": final >= expected,
        "seconds": round(seconds, 2),
        "per_second": round(final / seconds, 1) if seconds and seconds > 0 else 0.0,
    }
