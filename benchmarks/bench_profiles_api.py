"""Scenario ``profile-put``: server time of one ``PUT /api/v1/profiles/{namespace}/{value}``.

Run alone: `.venv/bin/python benchmarks/bench_profiles_api.py [--runs 3] [--quick]
[--database-url postgres://...]`.

On PostgreSQL (the database ``clarion_bench_profile_put``, created, migrated and
dropped at the end), with production settings (DEBUG off, the API key check
cached as in production). Each call goes through Django's WSGI handler in this
process (``django.test.Client``, with the API key in ``Authorization``): the
time measured is the server's own (middleware, authentication, parsing, the
queries and the JSON response) plus the test client's small cost of building the
request, and no network. Each run PUTs ``--calls`` new profiles (201) and then
updates each of them once (200), timing every call; the median and p99 of each
are the figures. The number of queries per call is counted once and reported.
Writes ``benchmarks/results/profile-put.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/clarion_bench_profile_put"
SCENARIO = "profile-put"
GOAL_MS = 2.0  # issue 9: at most 2 ms of server time per PUT, on PostgreSQL
CALLS = 2000
QUICK_CALLS = 300
WARM_UP_CALLS = 50  # first calls load code, compile templates and fill caches


def _database(url: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_url, name = urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _body(index: int, tier: str) -> str:
    return json.dumps(
        {
            "attributes": {"tier": tier, "name": {"first": f"P{index}"}, "visits": index},
            "locale": "en",
            "consent": {"email": "opted_in"},
        }
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300 calls, 1 run")
    parser.add_argument("--calls", type=int, default=None, help=f"per run (default {CALLS})")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_PROFILE_PUT_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL; its database is created, and dropped at the end.",
    )
    options = parser.parse_args()
    runs = 1 if options.quick else options.runs
    calls = options.calls or (QUICK_CALLS if options.quick else CALLS)

    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(60),
        DATABASE_URL=options.database_url,
        ALLOWED_HOSTS="localhost",
        # Production caches the API key check in Redis; so does the benchmark.
        REDIS_URL=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        LOG_LEVEL="WARNING",
        CLARION_DATA_DIR=str(ROOT / "var" / "bench-profile-put"),
    )
    (ROOT / "var" / "bench-profile-put" / "staticfiles").mkdir(parents=True, exist_ok=True)
    _database(options.database_url, create=True)
    try:
        details = _measure(runs, calls)
    finally:
        from django.db import connections

        connections.close_all()
        _database(options.database_url, create=False)

    from benchmarks.harness import Figure, print_figures, results_write

    figures = [
        Figure(
            SCENARIO,
            f"PUT, new profile, {label}",
            "ms",
            details[f"create_{key}"],
            better="lower",
            goal=GOAL_MS,
            note="server time",
        )
        for label, key in (("median", "median"), ("p99", "p99"))
    ] + [
        Figure(
            SCENARIO,
            f"PUT, update, {label}",
            "ms",
            details[f"update_{key}"],
            better="lower",
            goal=GOAL_MS,
            note="server time",
        )
        for label, key in (("median", "median"), ("p99", "p99"))
    ]
    out = results_write(SCENARIO, figures, details)
    print_figures(SCENARIO, figures)
    print(f"\nqueries per call: {details['queries_per_call']}")
    print(f"CPU of the server process per call, median: {details['process_cpu_ms_median']} ms")
    print(f"wrote {out.relative_to(ROOT)}")


def _measure(runs: int, calls: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from audiences.models import Profile
    from core.apikeys import api_key_create

    call_command("migrate", verbosity=0)
    _, secret = api_key_create(name="bench", scopes=["profiles:write"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")

    cpu: dict[int, list[float]] = {201: [], 200: []}

    def put(index: int, tier: str, expect: int) -> float:
        path = f"/api/v1/profiles/email/person{index}@example.com"
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.put(
            path, _body(index, tier), content_type="application/json", secure=True
        )
        elapsed = time.perf_counter() - start
        # This process's CPU (not PostgreSQL's): less sensitive to a busy machine.
        cpu[expect].append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == expect, response.content
        return elapsed * 1000

    for index in range(WARM_UP_CALLS):
        put(-index - 1, "gold", 201)
    queries: dict[str, int] = {}
    with CaptureQueriesContext(connection) as captured:
        put(-WARM_UP_CALLS - 1, "gold", 201)
    queries["create"] = len(captured)
    with CaptureQueriesContext(connection) as captured:
        put(-WARM_UP_CALLS - 1, "silver", 200)
    queries["update"] = len(captured)

    result: dict[str, list[float]] = {
        "create_median": [],
        "create_p99": [],
        "update_median": [],
        "update_p99": [],
    }
    for times in cpu.values():
        times.clear()  # the warm-up calls are not counted
    for run in range(runs):
        base = run * calls
        created = [put(base + i, "gold", 201) for i in range(calls)]
        updated = [put(base + i, "silver", 200) for i in range(calls)]
        for label, times in (("create", created), ("update", updated)):
            result[f"{label}_median"].append(round(statistics.median(times), 3))
            result[f"{label}_p99"].append(round(_percentile(times, 0.99), 3))
        print(
            f"run {run + 1}: create median {result['create_median'][-1]} ms, "
            f"update median {result['update_median'][-1]} ms",
            flush=True,
        )
    return {
        **result,
        "calls_per_run": calls,
        "queries_per_call": queries,
        "process_cpu_ms_median": {
            "create": round(statistics.median(cpu[201]), 3),
            "update": round(statistics.median(cpu[200]), 3),
        },
        "profiles": Profile.objects.count(),
        "database": connection.vendor,
        "timing": "in process: django.test.Client through the WSGI handler, production settings",
    }


if __name__ == "__main__":
    main()
