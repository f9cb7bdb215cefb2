"""Audience sends (issue 9): push to the outbox, email built as MIME, email over SMTP,
and the Celery workers' memory, each against its baseline in the same invocation.

Run: `.venv/bin/python benchmarks/bench_audience.py [--runs 3] [--quick]
[--only push,email-mime,smtp,memory]` (or `make bench-audience`). Needs PostgreSQL
and Redis. It drops and creates its own database (clarion_bench_audience), migrates
it, writes the profiles with INSERT ... SELECT generate_series
(benchmarks/audience_seed.py), starts a Celery worker (prefork, one process per
core) with benchmarks/settings_audience.py, and for each scenario:

- push: one audience execution of a marketing push campaign to --profiles profiles,
  on the outbox transport; messages per second from acceptance to the last message
  final (goal 5,000/s);
- email-mime: the same for an email campaign whose backend builds the MIME bytes and
  drops them, against a bare loop rendering and building the same messages on every
  core with no database (benchmarks/audience_bare.py; goal 50%);
- smtp: the email campaign to an aiosmtpd sink in its own process, against a bare loop
  sending over one reused SMTP connection (goal 80%) and django-post-office sending
  the same messages (as many as the audience's profiles, rendered per recipient) to the
  same sink, timed from its first ``mail.send`` to its last email sent
  (benchmarks/audience_postoffice.py; goal 5x). The first run tries each of
  --postoffice-settings and keeps the fastest for the runs after it;
- memory: peak RSS of each worker process during sends to the small and the large
  audience (100,000 and 1,000,000 profiles; --quick 10,000 and 50,000).

Each scenario writes benchmarks/results/audience-<name>.json. Logs: var/bench-audience/.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audience_run import MemorySampler, audience_send, messages_reset
from benchmarks.harness import Figure, print_figures, results_write
from benchmarks.trigger_stack import Stack, port_free, port_wait

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-audience"
PYTHON = sys.executable
SCENARIOS = ("push", "email-mime", "smtp", "memory")
CORES = os.cpu_count() or 1


class PostOfficeSetting(NamedTuple):
    """How django-post-office's sender runs: ``send_queued_mail -p processes`` and its
    POST_OFFICE settings (https://github.com/ui/django-post_office#settings)."""

    processes: int
    batch_size: int
    threads: int

    def __str__(self) -> str:
        return f"{self.processes}/{self.batch_size}/{self.threads}"


# Its defaults (one process, BATCH_SIZE 100, THREADS_PER_PROCESS 5), larger batches, and
# larger batches on one process per core: the first smtp run tries each.
POSTOFFICE_SETTINGS = f"1/100/5,1/1000/5,{CORES}/1000/5"


def options_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--database-url", default="postgres://postgres@127.0.0.1:5432/clarion_bench_audience")
    add("--redis-url", default="redis://127.0.0.1:6379/13", help="Cache (emptied).")
    add("--broker-url", default="redis://127.0.0.1:6379/14", help="Celery broker (emptied).")
    add("--smtp-port", type=int, default=8926)
    add("--runs", type=int, default=3)
    add("--quick", action="store_true", help="Small sizes, one run: a smoke run.")
    add("--only", default=",".join(SCENARIOS), help="Comma-separated: " + ",".join(SCENARIOS))
    add("--profiles", type=int, default=100_000, help="Audience size of push, email-mime, smtp.")
    add("--memory-sizes", default="100000,1000000", help="Audience sizes of the memory scenario.")
    add("--bare-messages", type=int, default=20_000, help="Messages per bare-loop run.")
    add(
        "--postoffice-settings",
        default=POSTOFFICE_SETTINGS,
        help="django-post-office settings the first smtp run tries, comma-separated "
        "processes/BATCH_SIZE/THREADS_PER_PROCESS; the fastest is kept.",
    )
    add("--concurrency", type=int, default=CORES, help="Celery worker processes.")
    add("--timeout", type=float, default=900.0, help="Longest wait for one audience send (s).")
    options = parser.parse_args()
    if options.quick:
        options.runs, options.profiles, options.memory_sizes = 1, 10_000, "10000,50000"
        options.bare_messages = 4_000
        options.timeout = min(options.timeout, 300.0)
    options.only = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(options.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    options.memory_sizes = [int(size) for size in options.memory_sizes.split(",")]
    try:
        options.postoffice_settings = [
            PostOfficeSetting(*(int(part) for part in text.split("/")))
            for text in options.postoffice_settings.split(",")
        ]
    except (TypeError, ValueError):
        parser.error("--postoffice-settings: processes/BATCH_SIZE/THREADS_PER_PROCESS, ...")
    return options


def environment(
    options: argparse.Namespace, settings: str = "benchmarks.settings_audience"
) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CELERY_BROKER_URL": options.broker_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{options.smtp_port}",
        "CLARION_DATA_DIR": str(WORK / "data"),
        "LOG_LEVEL": "WARNING",
    }


def services_reset(options: argparse.Namespace) -> None:
    import psycopg
    import redis
    from psycopg import sql

    parts = urlsplit(options.database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    for url in (options.redis_url, options.broker_url):
        redis.Redis.from_url(url).flushdb()


def database_create(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        name = sql.Identifier(parts.path.lstrip("/"))
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        pg.execute(sql.SQL("CREATE DATABASE {}").format(name))


def database_drop(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        name = sql.Identifier(parts.path.lstrip("/"))
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def child_json(argv: list[str], env: dict[str, str], timeout: float = 1800) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def celery_argv(options: argparse.Namespace) -> list[str]:
    return [
        PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "--pool", "prefork",
        "--concurrency", str(options.concurrency), "-n", f"bench-audience-{secrets.token_hex(3)}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


class Bench:
    """The database, the seeded audiences and campaigns, and a way to send to them."""

    def __init__(self, options: argparse.Namespace, stack: Stack) -> None:
        self.options, self.stack = options, stack
        self.env = environment(options)
        self.audiences: dict[int, str] = {}
        self.campaigns: dict[str, str] = {}

    def audience(self, size: int) -> str:
        if size not in self.audiences:
            seeded = child_json(
                ["benchmarks/audience_seed.py", "profiles", "--count", str(size)], self.env
            )
            self.audiences[size] = seeded["audience"]
            if not self.campaigns:
                self.campaigns = child_json(
                    [
                        "benchmarks/audience_seed.py",
                        "campaigns",
                        "--audience",
                        self.audiences[size],
                    ],
                    self.env,
                )
        return self.audiences[size]

    def send(
        self, channel: str, size: int, email: str = "smtp", sampler: bool = False
    ) -> dict[str, Any]:
        """Start a worker, send one execution to ``size`` profiles, stop the worker."""
        audience = self.audience(size)
        messages_reset(self.options.database_url)
        shutil.rmtree(WORK / "data" / "outbox", ignore_errors=True)
        env = {**self.env, "CLARION_BENCH_EMAIL": email}
        self.stack.env = env
        worker = self.stack.start("celery", celery_argv(self.options))
        try:
            with MemorySampler(worker.pid) as memory:
                result = audience_send(
                    database_url=self.options.database_url, env=env, root=ROOT, python=PYTHON,
                    campaign=self.campaigns[channel], audience=audience, expected=size,
                    timeout=self.options.timeout, check=self.stack.check,
                )  # fmt: skip
        finally:
            self.stack.stop("celery")
        result["peak_rss_mib"] = memory.peak_mib
        result["workers"] = len(memory.peak)
        print(f"{channel} to {size:,} ({email}): {json.dumps(result)}", flush=True)
        if not result["complete"]:
            print(f"  incomplete after {self.options.timeout:.0f} s", flush=True)
        return result


def runs_of(count: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(count)]


def scenario_push(bench: Bench) -> None:
    o = bench.options
    runs = [bench.send("push", o.profiles) for _ in range(o.runs)]
    figures = [
        Figure("audience-push", f"push to the outbox, {o.profiles:,} profiles", "msg/s",
               [r["per_second"] for r in runs], goal=5000),
    ]  # fmt: skip
    finish("audience-push", figures, {"runs": runs, "profiles": o.profiles})


def bare(mode: str, options: argparse.Namespace) -> dict[str, Any]:
    argv = ["benchmarks/audience_bare.py", mode, "--messages", str(options.bare_messages)]
    if mode == "smtp":
        argv += ["--port", str(options.smtp_port)]
    result = child_json(argv, environment(options))
    print(f"bare {mode}: {json.dumps(result)}", flush=True)
    return result


def scenario_email_mime(bench: Bench) -> None:
    o = bench.options
    clarion, ceiling = [], []
    for _ in range(o.runs):  # alternated, so both see the same noise
        ceiling.append(bare("mime", o))
        clarion.append(bench.send("email", o.profiles, email="discard"))
    shares = [
        100 * c["per_second"] / b["per_second"] for c, b in zip(clarion, ceiling, strict=True)
    ]
    figures = [
        Figure("audience-email-mime", f"email built as MIME, {o.profiles:,} profiles", "msg/s",
               [c["per_second"] for c in clarion]),
        Figure("audience-email-mime", f"bare loop, {CORES} processes, no database", "msg/s",
               [b["per_second"] for b in ceiling]),
        Figure("audience-email-mime", "Clarion as a share of the bare loop", "%", shares, goal=50,
               note="% of the bare loop"),
    ]  # fmt: skip
    finish("audience-email-mime", figures, {"clarion": clarion, "bare": ceiling})


def scenario_smtp(bench: Bench) -> None:
    o = bench.options
    sink = bench.stack.start(
        "smtp-sink",
        [PYTHON, "benchmarks/smtp_sink.py", "--port", str(o.smtp_port), "--out", str(WORK / "arrivals.txt")],
    )  # fmt: skip
    port_wait(o.smtp_port, 30, sink)
    clarion, ceiling, peer = [], [], []
    tried: dict[str, dict[str, Any]] = {}
    best = o.postoffice_settings[0]
    for run in range(o.runs):
        ceiling.append(bare("smtp", o))
        clarion.append(bench.send("email", o.profiles, email="smtp"))
        if run == 0:  # each setting once: the fastest is this run's figure and the next runs'
            tried = {str(setting): postoffice(o, setting) for setting in o.postoffice_settings}
            best = max(o.postoffice_settings, key=lambda s: tried[str(s)]["per_second"])
            print(f"django-post-office: fastest setting {best}", flush=True)
            peer.append(tried[str(best)])
        else:
            peer.append(postoffice(o, best))
    bench.stack.stop("smtp-sink")
    rate = [c["per_second"] for c in clarion]
    best_label = (
        f"{best.processes} process{'es' if best.processes > 1 else ''}, "
        f"BATCH_SIZE {best.batch_size}, "
        f"THREADS_PER_PROCESS {best.threads}"
    )
    figures = [
        Figure("audience-smtp", f"email over SMTP, {o.profiles:,} profiles", "msg/s", rate),
        Figure("audience-smtp", "bare loop, one SMTP connection, no database", "msg/s",
               [b["per_second"] for b in ceiling]),
        Figure("audience-smtp", "Clarion as a share of the bare loop", "%",
               [100 * c / b["per_second"] for c, b in zip(rate, ceiling, strict=True)], goal=80,
               note="% of the bare loop"),
        Figure("audience-smtp", f"django-post-office end to end, {o.profiles:,} messages "
               f"({best_label})", "msg/s", [p["per_second"] for p in peer],
               note="queueing and sending"),
        Figure("audience-smtp", "django-post-office queueing (mail.send_many, rendering)",
               "msg/s", [p["queue"]["per_second"] for p in peer]),
        Figure("audience-smtp", "django-post-office sending (send_queued_mail)", "msg/s",
               [p["send"]["per_second"] for p in peer]),
        Figure("audience-smtp", "Clarion against django-post-office end to end", "x",
               [c / p["per_second"] for c, p in zip(rate, peer, strict=True)], goal=5,
               note="times django-post-office"),
    ]  # fmt: skip
    details = {"clarion": clarion, "bare": ceiling, "post_office": peer, "post_office_tried": tried}
    finish("audience-smtp", figures, details)


def postoffice(options: argparse.Namespace, setting: PostOfficeSetting) -> dict[str, Any]:
    # Named after Clarion's benchmark database: two invocations with their own databases
    # (--database-url) never share the peer's.
    parts = urlsplit(options.database_url)
    database = parts._replace(path=f"{parts.path.rstrip('/')}_postoffice")
    env = {
        **environment(options, "benchmarks.settings_postoffice"),
        "DATABASE_URL": urlunsplit(database),
    }
    argv = ["benchmarks/audience_postoffice.py", "--messages", str(options.profiles),
            "--port", str(options.smtp_port), "--processes", str(setting.processes),
            "--batch-size", str(setting.batch_size), "--threads", str(setting.threads)]  # fmt: skip
    database_create(urlunsplit(database))
    try:
        result = child_json(argv, env)
    finally:
        database_drop(urlunsplit(database))
    print(f"django-post-office: {json.dumps(result)}", flush=True)
    return result


def scenario_memory(bench: Bench) -> None:
    o = bench.options
    sends = {size: [bench.send("push", size) for _ in range(1)] for size in o.memory_sizes}
    small, large = min(o.memory_sizes), max(o.memory_sizes)
    figures = [
        Figure("audience-memory", f"peak RSS per worker process, {size:,} profiles", "MiB",
               [s["peak_rss_mib"] for s in runs], better="lower", goal=250)
        for size, runs in sends.items()
    ]  # fmt: skip
    growth = [
        sends[large][0]["peak_rss_mib"] - sends[small][0]["peak_rss_mib"],
    ]
    figures.append(
        Figure("audience-memory", f"growth from {small:,} to {large:,} profiles", "MiB", growth,
               better="lower", note="flat: near 0")
    )  # fmt: skip
    finish("audience-memory", figures, {"sends": sends})


def finish(scenario: str, figures: list[Figure], details: dict[str, Any]) -> None:
    path = results_write(scenario, figures, details)
    print_figures(scenario, figures)
    print(f"\nwrote {path.relative_to(ROOT)}\n", flush=True)


def main() -> None:
    options = options_parse()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if not port_free(options.smtp_port):
        raise SystemExit(f"port {options.smtp_port} is in use; choose another with --smtp-port")
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "data" / "staticfiles").mkdir(parents=True)
    services_reset(options)
    env = environment(options)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    scenarios = {
        "push": scenario_push,
        "email-mime": scenario_email_mime,
        "smtp": scenario_smtp,
        "memory": scenario_memory,
    }
    try:
        with Stack(WORK, env, ROOT) as stack:
            bench = Bench(options, stack)
            for name in options.only:
                scenarios[name](bench)
    except KeyboardInterrupt:
        raise SystemExit("interrupted; every process the benchmark started was stopped") from None
    finally:
        database_drop(options.database_url)


if __name__ == "__main__":
    main()
