"""Trigger API speed (issues 7 and 9): accepted calls per second, acceptance latency, the
ceiling of a bare Django view, and end-to-end latency to an SMTP server.

Run: `.venv/bin/python benchmarks/bench_trigger.py [--runs 3] [--quick] [--duration 60]
[--database-url postgres://.../clarion_bench_trigger] [--redis-url redis://.../14]
[--broker-url redis://.../15]` (or `make bench-trigger`, or `make bench` with the other
scenarios). Needs PostgreSQL, Redis and `wrk` on the machine. The defaults are issue 9's:
60-second wrk runs, 3 runs, end to end at 200 calls/s; `--quick` is a smoke run of about
two minutes (10-second runs, 1 run, end to end at 50 calls/s) whose figures mean little.
In one invocation it:

1. drops and creates the database of --database-url, migrates it, empties the two
   Redis databases, and seeds a live transactional email campaign, --profiles known
   profiles and an API key (benchmarks/trigger_seed.py, through the services);
2. starts, each in its own process: an SMTP sink on loopback that records when each
   message arrives (benchmarks/smtp_sink.py); gunicorn serving config.wsgi with the
   production settings (DEBUG off, REDIS_URL for the key and campaign caches and the
   rate limit, a rate limit high enough never to bind) plus one benchmark-only route,
   the bare JSON view (benchmarks/settings_bench.py, urls_bench.py); and a Celery
   worker on the Redis broker whose EMAIL_URL is the sink;
3. end to end: a paced generator (benchmarks/trigger_paced.py) sends --e2e-rate calls
   per second (each rate given, lowest first, after the previous one's messages have
   all arrived) for --e2e-duration seconds; for each accepted call, the time from
   sending it to the sink receiving its message (same machine clock);
4. stops the worker, then alternates --runs wrk runs of --duration seconds against the
   bare view (the ceiling) and against POST /api/v1/executions/unitary
   (benchmarks/trigger_wrk.lua: one recipient, a new requestId per call): requests
   per second, p50 and p99 latency, and every answer other than 202 or socket error
   counted as an error; median, min and max over the runs; and the CPU time each party
   used per request (gunicorn, PostgreSQL backends, Redis, wrk; read from /proc);
5. starts the worker again and counts how many of the accepted backlog it sends in
   --drain-seconds (its send rate);
6. prints Markdown tables, writes benchmarks/results/trigger.json (the issue's figures
   through benchmarks/harness.py; the per-party CPU table and every run in its
   details), stops every process it started (also on an error, Ctrl-C or SIGTERM) and
   drops the database (unless --keep). Logs are under var/bench-trigger/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import print_figures, results_write
from benchmarks.trigger_delivery import TRIGGER_PATH, drain, end_to_end, smoke
from benchmarks.trigger_figures import trigger_figures
from benchmarks.trigger_report import report, summary
from benchmarks.trigger_stack import (
    CpuMeter,
    Stack,
    cpu_by_process,
    http_wait,
    port_free,
    port_wait,
)

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-trigger"
LUA = ROOT / "benchmarks" / "trigger_wrk.lua"
BARE_PATH = "/bench/bare"
WARMUP_SECONDS = 3
PYTHON = sys.executable
# Issue 9: 60 s sustained, median of 3 runs, end to end at a steady 200 calls/s.
FULL: dict[str, Any] = {
    "duration": 60,
    "runs": 3,
    "profiles": 10_000,
    "e2e_rate": [200.0],
    "e2e_duration": 30.0,
    "drain_seconds": 20.0,
}
# A smoke run of about two minutes: proves the script works, its figures mean little.
QUICK: dict[str, Any] = {
    "duration": 10,
    "runs": 1,
    "profiles": 2_000,
    "e2e_rate": [50.0],
    "e2e_duration": 10.0,
    "drain_seconds": 10.0,
}


def options_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    env = os.environ.get
    add(
        "--database-url",
        default=env(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clarion_bench_trigger"
        ),
        help="PostgreSQL; this database is dropped, created again and dropped at the end.",
    )
    add("--keep", action="store_true", help="Keep the database afterwards.")
    add(
        "--redis-url",
        default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Cache and rate limit (emptied).",
    )
    add(
        "--broker-url",
        default=env("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15"),
        help="Celery broker (emptied).",
    )
    add("--quick", action="store_true", help="A smoke run: small and short, one run.")
    add("--port", type=int, default=8931, help="gunicorn's port on 127.0.0.1.")
    add("--smtp-port", type=int, default=8925, help="The SMTP sink's port on 127.0.0.1.")
    add("--duration", type=int, default=None, help="Seconds per wrk run (60; quick: 10).")
    add("--runs", type=int, default=None, help="Runs per figure: median, min, max (3; quick: 1).")
    add("--connections", type=int, default=16, help="wrk connections.")
    add("--wrk-threads", type=int, default=2)
    # gthread, 2 processes x 4 threads: the best of the four set-ups tried first; none of the
    # nine of a second sweep did measurably better (docs/performance.md).
    add("--workers", type=int, default=2, help="gunicorn worker processes.")
    add("--worker-class", choices=["sync", "gthread"], default="gthread")
    add("--threads", type=int, default=4, help="Threads per gunicorn worker (gthread).")
    add("--concurrency", type=int, default=2, help="Celery worker processes.")
    add("--profiles", type=int, default=None, help="Known profiles seeded (10,000; quick: 2,000).")
    add(
        "--e2e-rate",
        type=float,
        nargs="+",
        default=None,
        help="Calls per second, end to end (200; quick: 50); several rates run one after "
        "the other, --runs times each; the figures are the highest rate's.",
    )
    add(
        "--e2e-duration",
        type=float,
        default=None,
        help="Seconds of paced calls per run (30; quick: 10; 0: skip).",
    )
    add("--e2e-wait", type=float, default=120.0, help="Longest wait for the last arrivals.")
    add(
        "--drain-seconds",
        type=float,
        default=None,
        help="Worker send rate window (20; quick: 10; 0: skip).",
    )
    add(
        "--settings",
        default="benchmarks.settings_bench",
        help="Settings module of the web and worker processes (to measure a variant).",
    )
    options = parser.parse_args()
    # Full (issue 9's figures) and quick (a smoke run) defaults; an explicit option wins.
    defaults = QUICK if options.quick else FULL
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    if options.runs < 1 or options.duration < 1:
        parser.error("--runs and --duration must be at least 1")
    return options  # fmt: skip


def environment(options: argparse.Namespace) -> dict[str, str]:
    """What every child sees: production settings against the benchmark's services."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": options.settings,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy in front
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CELERY_BROKER_URL": options.broker_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{options.smtp_port}",
        # The limiter runs on every call (a Redis round trip) but never refuses one.
        "CLARION_TRIGGER_RATE_LIMIT": "1000000",
        "CLARION_TRIGGER_RATE_BURST": "1000000",
        "CLARION_DATA_DIR": str(WORK / "data"),
        "LOG_LEVEL": "WARNING",
    }


def services_reset(options: argparse.Namespace) -> dict[str, str]:
    """A fresh database and empty Redis databases; returns their versions."""
    import psycopg
    import redis
    from psycopg import sql

    parts = urlsplit(options.database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        row = pg.execute("SHOW server_version").fetchone()
    for url in (options.redis_url, options.broker_url):
        client = redis.Redis.from_url(url)
        client.flushdb()
        redis_version = str(client.info("server")["redis_version"])
    return {"postgresql": str(row[0]) if row else "?", "redis": redis_version}


def database_drop(options: argparse.Namespace) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(options.database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def memory_gib() -> float:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)


Meters = dict[str, Callable[[], dict[int, float]]]


def meters_for(options: argparse.Namespace, web_group: int) -> Meters:
    """The processes whose CPU time is measured, by party: the gunicorn workers, the
    PostgreSQL backends serving the benchmark's database, and the Redis server (shared
    with anything else on the machine that uses it). wrk is measured as our child."""
    parts = urlsplit(options.database_url)
    backends = f" {parts.username or 'postgres'} {parts.path.lstrip('/')} "
    return {
        "web": lambda: cpu_by_process(group=web_group),
        "postgresql": lambda: cpu_by_process(cmdline=backends),
        "redis": lambda: cpu_by_process(cmdline="redis-server "),
    }


def wrk_run(
    url: str, options: argparse.Namespace, seconds: int, lua_args: list[str], meters: Meters
) -> dict[str, Any]:
    command = ["wrk", "-t", str(options.wrk_threads), "-c", str(options.connections)]
    command += ["-d", f"{seconds}s", "--timeout", "10s", "-s", str(LUA), url, "--", *lua_args]
    wrk_before = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
    with contextlib.ExitStack() as stack:
        cpu = {name: stack.enter_context(CpuMeter(select)) for name, select in meters.items()}
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    used = {name: meter.seconds for name, meter in cpu.items()}
    used["wrk"] = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]) - wrk_before
    done.check_returncode()
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    raw = json.loads(line.removeprefix("BENCH "))
    seconds_run = raw["duration_us"] / 1e6
    socket_errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors"))
    errors = raw["non_202"] + socket_errors + raw["timeouts"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "per_second": round((raw["requests"] - raw["non_202"]) / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "non_202": raw["non_202"],
        "first_bad": raw["first_bad"],
        # CPU milliseconds per request, by party: what the figures would be on idle cores.
        "cpu_ms_per_request": {
            name: round(1000 * value / max(1, raw["requests"]), 3) for name, value in used.items()
        },
    }


def gunicorn_argv(options: argparse.Namespace) -> list[str]:
    argv = [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{options.port}"]
    argv += ["--workers", str(options.workers), "--worker-class", options.worker_class]
    if options.worker_class == "gthread":
        argv += ["--threads", str(options.threads)]
    # No access log (as behind a proxy that logs); its default control socket path in
    # $HOME would clash with another instance on the machine.
    return [*argv, "--log-level", "warning", "--no-control-socket", "--backlog", "2048"]


def celery_argv(options: argparse.Namespace) -> list[str]:
    return [
        PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning",
        "--concurrency", str(options.concurrency), "-n", "bench@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


def run(options: argparse.Namespace) -> dict[str, Any]:
    for port in (options.port, options.smtp_port):
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; choose another with --port/--smtp-port")
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "data" / "staticfiles").mkdir(parents=True)
    versions = services_reset(options)
    env = environment(options)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [PYTHON, "benchmarks/trigger_seed.py", "--profiles", str(options.profiles)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    url = f"http://127.0.0.1:{options.port}"
    sink = WORK / "arrivals.txt"
    machine = {
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **versions,
    }
    with Stack(WORK, env, ROOT) as stack:
        sink_process = stack.start(
            "smtp-sink",
            [PYTHON, "benchmarks/smtp_sink.py", "--port", str(options.smtp_port), "--out", str(sink)],
        )  # fmt: skip
        port_wait(options.smtp_port, 30, sink_process)
        web = stack.start("gunicorn", gunicorn_argv(options))
        port_wait(options.port, 60, web)
        http_wait(url + "/api/v1/health", 60)

        def start_worker() -> subprocess.Popen[bytes]:
            return stack.start("celery", celery_argv(options))

        start_worker()
        smoke(url, seed, sink, timeout=60)
        e2e = [
            end_to_end(options, rate, url, seed, sink, stack)
            for rate in (sorted(options.e2e_rate) if options.e2e_duration else [])
            for _run in range(options.runs)
        ]
        stack.stop("celery")  # the accept runs measure the web tier alone

        def lua_args(tag: str) -> list[str]:
            return [seed["campaignId"], seed["apiKey"], tag, str(seed["profiles"])]

        meters = meters_for(options, web.pid)

        def worker_meters_of(worker_group: int) -> Meters:
            # The same parties, with the Celery processes in the web tier's place.
            by_party = meters_for(options, worker_group)
            return {"worker": by_party.pop("web"), **by_party}

        for path in (BARE_PATH, TRIGGER_PATH):
            warm = lua_args(f"warm-{secrets.token_hex(4)}")
            wrk_run(url + path, options, WARMUP_SECONDS, warm, meters)
        bare_runs: list[dict[str, Any]] = []
        trigger_runs: list[dict[str, Any]] = []
        for number in range(options.runs):
            for path, runs in ((BARE_PATH, bare_runs), (TRIGGER_PATH, trigger_runs)):
                tag = f"r{number}-{secrets.token_hex(4)}"
                result = wrk_run(url + path, options, options.duration, lua_args(tag), meters)
                runs.append(result)
                print(f"{path}: {json.dumps(result)}", flush=True)
                stack.check()
        drained = {}
        if options.drain_seconds:
            drained = drain(options, sink, stack, start_worker, worker_meters_of)
    ceiling, trigger = summary(bare_runs), summary(trigger_runs)
    return {
        "machine": machine,
        "setup": {
            "gunicorn": {
                "workers": options.workers,
                "worker_class": options.worker_class,
                "threads": options.threads if options.worker_class == "gthread" else 1,
            },
            "wrk": {"connections": options.connections, "threads": options.wrk_threads},
            "run_seconds": options.duration,
            "runs": options.runs,
            "celery_processes": options.concurrency,
            "settings": options.settings,
            "profiles": seed["profiles"],
        },
        "ceiling": ceiling,
        "trigger": trigger,
        "trigger_share_of_ceiling_percent": round(
            100 * trigger["per_second"]["median"] / ceiling["per_second"]["median"], 1
        ),
        "end_to_end": e2e,
        "worker_drain": drained,
    }


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    options = options_parse()
    # SIGTERM stops the benchmark the way Ctrl-C does: through Stack's clean-up.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(options)
    except KeyboardInterrupt:
        raise SystemExit("interrupted; every process the benchmark started was stopped") from None
    finally:
        if not options.keep:
            database_drop(options)
    report(result)
    figures = trigger_figures(result)
    print_figures("trigger", figures)
    written = results_write("trigger", figures, details=result)
    print(f"\nwrote {written.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
