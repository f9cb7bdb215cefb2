"""`make bench`: every scenario of issue 9, one after the other, and one table of their figures.

Run: `.venv/bin/python benchmarks/bench.py [--runs 3] [--quick] [--only trigger,import]
[--with-report] [--timeout-scale 1.0]` (or `make bench`, `make bench BENCH_ONLY=trigger`,
`make bench BENCH_ARGS=--quick`). It:

1. checks what the scenarios need before starting any: PostgreSQL and Redis reachable
   (``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL`` or their defaults), and ``wrk`` on the
   PATH when the trigger scenario runs; it names everything that is missing and stops;
2. runs each scenario script (``SCENARIOS``, in that order) in its own process and
   process group, with ``--runs`` and ``--quick``; a script not in the checkout is
   skipped with a message. Each scenario starts and stops its own servers, workers and
   database; each is bounded by a timeout, after which (or on Ctrl-C) its group gets
   SIGTERM (the scripts stop their own children on it), then SIGKILL after a grace
   period. bench.py is a child subreaper (Linux), so a process a scenario left behind
   becomes bench.py's child, and is stopped too: nothing outlives `make bench`;
3. reads every ``benchmarks/results/*.json`` written during this invocation and prints
   one Markdown table headed by the machine, and writes ``benchmarks/results/summary.md``
   and ``summary.json``. A failed scenario is listed with its exit status; the others'
   figures are still shown. The exit status is 1 when a scenario failed.

The report scenario (``bench_report.py``: 10 million messages) runs only with
``--with-report``: it takes about 25 minutes and 8 GiB of disk, more than the rest
together, and measures issue 8's goal rather than issue 9's.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import RESULTS, ROOT, figures_table, machine_info

PYTHON = sys.executable
# Time for a scenario to stop its own children after SIGTERM (each of a trigger run's
# four processes may take 15 s) before its whole group is killed.
STOP_GRACE_SECONDS = 75.0
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


@dataclass(frozen=True)
class Scenario:
    name: str
    script: str
    # Bounds, generous against the expected run time (full; quick), so that only a hung
    # scenario reaches them.
    timeout_minutes: float
    quick_timeout_minutes: float
    needs_wrk: bool = False


SCENARIOS = (
    Scenario("trigger", "bench_trigger.py", 30, 6, needs_wrk=True),
    Scenario("audience", "bench_audience.py", 90, 10),
    Scenario("import", "bench_import.py", 60, 10),
    Scenario("profile-put", "bench_profiles_api.py", 15, 5),
)
REPORT = Scenario("report", "bench_report.py", 60, 10)


def options_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--runs", type=int, default=3, help="Runs per figure (median, min, max).")
    add("--quick", action="store_true", help="Smoke runs: small sizes, one run each.")
    add(
        "--only",
        default="",
        help="Comma-separated scenarios to run, of: "
        + ", ".join(s.name for s in (*SCENARIOS, REPORT)),
    )
    add("--with-report", action="store_true", help="Also the 10-million-message report.")
    add("--timeout-scale", type=float, default=1.0, help="Multiply every scenario's timeout.")
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    return options


def scenarios_chosen(options: argparse.Namespace) -> list[Scenario]:
    known = {s.name: s for s in (*SCENARIOS, REPORT)}
    if options.only:
        names = [name.strip() for name in options.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise SystemExit(
                f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return [s for s in known.values() if s.name in names]  # in the fixed order
    return [*SCENARIOS, REPORT] if options.with_report else list(SCENARIOS)


def prerequisites_missing(chosen: list[Scenario]) -> list[str]:
    """What the chosen scenarios need and the machine lacks, in words."""
    import psycopg
    import redis

    missing = []
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    try:
        with psycopg.connect(database_url, dbname="postgres", connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        missing.append(f"PostgreSQL is not reachable at {database_url}: {error}".strip())
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        missing.append(f"Redis is not reachable at {redis_url}: {error}")
    if any(s.needs_wrk for s in chosen) and shutil.which("wrk") is None:
        missing.append(
            "wrk is not installed (the trigger scenario's load generator): apt install wrk"
        )
    return missing


def subreaper_become() -> None:
    """Orphans of our descendants become our children (Linux), so none escapes us."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _group_stop(group: int, grace: float, child: subprocess.Popen[bytes] | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def leftovers_stop() -> list[int]:
    """Stop and reap every process still our child: a scenario's orphans (as subreaper).
    Returns the ids of those that were still running."""
    me, running, found = os.getpid(), [], []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # state, parent, group, ...
        if int(fields[1]) == me:
            found.append(int(stat.parent.name))
            if fields[0] != "Z":  # a zombie has only to be reaped
                running.append((int(stat.parent.name), int(fields[2])))
    for pid, group in running:
        if group == os.getpgrp():  # never our own group: that would stop make bench too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        else:
            _group_stop(group, 0, None)
    for pid in found:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return [pid for pid, _group in running]


def scenario_run(scenario: Scenario, options: argparse.Namespace) -> dict[str, Any]:
    script = ROOT / "benchmarks" / scenario.script
    if not script.exists():
        print(
            f"\n== {scenario.name}: skipped, benchmarks/{scenario.script} is not in this checkout"
        )
        return {"status": "missing", "seconds": 0}
    minutes = scenario.quick_timeout_minutes if options.quick else scenario.timeout_minutes
    timeout = minutes * 60 * options.timeout_scale
    argv = [PYTHON, str(script), "--runs", str(1 if options.quick else options.runs)]
    argv += ["--quick"] if options.quick else []
    print(f"\n== {scenario.name}: {' '.join(argv[1:])} (at most {timeout:,.0f} s)", flush=True)
    started = time.monotonic()
    child = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)
    status: str
    try:
        child.wait(timeout=timeout)
        status = "ok" if child.returncode == 0 else f"failed (exit {child.returncode})"
    except subprocess.TimeoutExpired:
        print(f"\n== {scenario.name}: over {timeout:,.0f} s, stopping it", flush=True)
        _group_stop(child.pid, STOP_GRACE_SECONDS, child)
        status = "timed out"
    except KeyboardInterrupt:
        print(f"\n== {scenario.name}: interrupted, stopping it", flush=True)
        _group_stop(child.pid, STOP_GRACE_SECONDS, child)
        leftovers_stop()
        raise
    finally:
        left = leftovers_stop()
    if left:
        print(f"== {scenario.name}: stopped {len(left)} process(es) it left behind: {left}")
    return {"status": status, "seconds": round(time.monotonic() - started, 1)}


def results_since(started_at: float, order: list[str]) -> list[dict[str, Any]]:
    """Results files written since ``started_at``, in the scenarios' order then by name."""
    found = []
    for path in RESULTS.glob("*.json"):
        if path.name == "summary.json" or path.stat().st_mtime < started_at:
            continue
        found.append(json.loads(path.read_text()))

    def rank(body: dict[str, Any]) -> tuple[int, str]:
        name = body["scenario"]
        prefix = next((i for i, s in enumerate(order) if name == s or name.startswith(s)), 99)
        return prefix, name

    return sorted(found, key=rank)


def machine_header(machine: dict[str, Any]) -> str:
    """One line: "2 cores, 23.5 GiB, Python 3.11.7, PostgreSQL 15.20, Redis 7.0.15; ..."."""
    load = ", ".join(f"{x:g}" for x in machine["load_average"])
    # "psql (PostgreSQL) 15.20 (Debian ...)" and "Redis server v=7.0.15 sha=... ": the versions.
    postgresql = next(iter(re.findall(r"\) (\d[\d.]*)", machine["postgresql"])), "?")
    redis = next(iter(re.findall(r"v=(\d[\d.]*)", machine["redis"])), "?")
    return (
        f"{machine['cores']} cores, {machine['memory_gib']} GiB, Python {machine['python']}, "
        f"PostgreSQL {postgresql}, Redis {redis}; load average {load} at the start; "
        f"{machine['measured_at']}"
    )


def summary_write(
    machine: dict[str, Any], outcomes: dict[str, dict[str, Any]], bodies: list[dict[str, Any]]
) -> str:
    figures = [figure for body in bodies for figure in body["figures"]]
    lines = [f"## Clarion benchmarks ({machine_header(machine)})", ""]
    lines.append(figures_table(figures) if figures else "No figures were written.")
    lines += ["", "| scenario | outcome | seconds |", "| --- | --- | ---: |"]
    lines += [f"| {name} | {o['status']} | {o['seconds']:,.0f} |" for name, o in outcomes.items()]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.md").write_text(text)
    summary = {"machine": machine, "scenarios": outcomes, "figures": figures}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return text


def main() -> int:
    options = options_parse()
    chosen = scenarios_chosen(options)
    missing = prerequisites_missing(chosen)
    if missing:
        print("make bench cannot start; missing:", *(f"- {m}" for m in missing), sep="\n")
        return 2
    subreaper_become()
    machine = machine_info()
    started_at = time.time()
    print(f"Clarion benchmarks: {', '.join(s.name for s in chosen)}; {machine_header(machine)}")
    outcomes: dict[str, dict[str, Any]] = {}
    try:
        for scenario in chosen:
            outcomes[scenario.name] = scenario_run(scenario, options)
    except KeyboardInterrupt:
        print("\ninterrupted; every process the benchmarks started was stopped")
        return 130
    bodies = results_since(started_at, [s.name for s in chosen])
    print("\n" + summary_write(machine, outcomes, bodies))
    print(f"wrote {(RESULTS / 'summary.md').relative_to(ROOT)} and summary.json")
    return 0 if all(o["status"] in ("ok", "missing") for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
