"""Scenario ``import``: profile import speed and memory, 1,000,000 CSV rows on PostgreSQL.

Run alone: `.venv/bin/python benchmarks/bench_import.py [--runs 3] [--quick]
[--database-url postgres://...]`.

A CSV (email, firstName, lastName, loyalty.tier, locale, consent.email; about 2%
bad rows) is generated under var/bench/ for each size (100,000 and 1,000,000
rows; 20,000 and 100,000 with ``--quick``). The database ``clarion_bench_import``
is created, migrated, and dropped at the end. Each run empties the profile tables
and imports the large file twice through ``manage.py import_profiles`` in a child
process (the same ``audiences.importing.profiles_import`` that the admin upload's
Celery task runs): the first pass creates every profile, the second updates them.
A run also imports the small file once, so the child's peak resident memory
(``os.wait4``: that child and the pool processes it waited for) can be compared
between the two sizes: flat memory means the large import needs no more than the
small one. Writes ``benchmarks/results/import.json``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import ROOT, Figure, print_figures, results_write

SCENARIO = "import"
BENCH_DIR = ROOT / "var" / "bench"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/clarion_bench_import"
GOAL_ROWS_PER_SECOND = 10_000  # issue 9: at least 10,000 rows/s at 1,000,000 rows
# "Memory flat": the 1,000,000-row import may peak at most 10% above the 100,000-row one.
GOAL_MEMORY_GROWTH = 1.10
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000, 100_000)
BAD_ROW_SHARE = 0.02
FIRST_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun"]
LAST_NAMES = ["Lee", "Silva", "Okafor", "Novak", "Tanaka", "Dubois", "Khan", "Berg"]
TIERS = ["bronze", "silver", "gold", "platinum"]
LOCALES = ["en", "en-GB", "fr-CA", "de", "zh-Hant-TW", "pt-BR"]
CONSENTS = ["opted_in", "opted_out", ""]
PROFILE_TABLES = ("audiences_profile", "audiences_identity", "audiences_consent")


def csv_generate(rows: int) -> tuple[Path, int]:
    """The benchmark file for ``rows`` data rows and how many of them are bad."""
    path = BENCH_DIR / f"profiles-{rows}.csv"
    rng = random.Random(rows)
    bad = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["email", "firstName", "lastName", "loyalty.tier", "locale", "consent.email"]
        )
        for index in range(rows):
            row = [
                f"person{index}@example.com",
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                rng.choice(TIERS),
                rng.choice(LOCALES),
                rng.choice(CONSENTS),
            ]
            if rng.random() < BAD_ROW_SHARE:
                bad += 1
                kind = rng.randrange(3)
                if kind == 0:
                    row[0] = f"person{index}.example.com"  # no @
                elif kind == 1:
                    row[4] = "english please"  # not a locale
                else:
                    row = row[:3]  # wrong column count
            writer.writerow(row)
    tmp.replace(path)
    return path, bad


def _admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _database(url: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    admin_url, name = _admin(url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _tables_empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(PROFILE_TABLES)} CASCADE")
        connection.execute("VACUUM ANALYZE " + ", ".join(PROFILE_TABLES))


def database_env(url: str) -> dict[str, str]:
    """Environment for the child processes: a new, migrated database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",  # Django keeps every query in memory when DEBUG is on
        "LOG_LEVEL": "WARNING",
        "CLARION_DATA_DIR": str(BENCH_DIR / "import-data"),
        "DATABASE_URL": url,
    }
    _database(url, create=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def import_run(path: Path, env: dict[str, str]) -> dict[str, float]:
    """One ``import_profiles`` child: wall time, rows/s, its peak RSS and the counts it printed."""
    command = [
        sys.executable,
        "manage.py",
        "import_profiles",
        str(path),
        "--namespace",
        "email",
        "--rejected",
        str(path.with_suffix(".rejected.csv")),
    ]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"import_profiles failed:\n{output}")
    counts = {
        word: int(number)
        for word, number in (
            part.strip().split(" ") for part in output.strip().splitlines()[-1].split(",")
        )
    }
    rows = sum(counts.values())
    return {
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 and 100,000 rows, 1 run")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL; its database is created, and dropped at the end.",
    )
    options = parser.parse_args()
    runs = 1 if options.quick else options.runs
    small_rows, large_rows = QUICK_SIZES if options.quick else SIZES
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    small, _small_bad = csv_generate(small_rows)
    large, large_bad = csv_generate(large_rows)

    env = database_env(options.database_url)
    passes: list[dict[str, object]] = []
    create_rate: list[float] = []
    update_rate: list[float] = []
    small_peak: list[float] = []
    large_peak: list[float] = []
    try:
        for run in range(runs):
            _tables_empty(options.database_url)
            small_result = import_run(small, env)
            _tables_empty(options.database_url)
            created = import_run(large, env)
            updated = import_run(large, env)
            for label, result, rows in (
                ("small, create", small_result, small_rows),
                ("create", created, large_rows),
                ("update", updated, large_rows),
            ):
                passes.append({"run": run + 1, "pass": label, "rows": rows, **result})
                print(passes[-1], flush=True)
            create_rate.append(created["rows_per_second"])
            update_rate.append(updated["rows_per_second"])
            small_peak.append(small_result["peak_mb"])
            large_peak.append(max(created["peak_mb"], updated["peak_mb"]))
    finally:
        _database(options.database_url, create=False)

    large_label = f"{large_rows:,} rows"
    figures = [
        Figure(
            SCENARIO,
            f"import, {large_label}, new profiles",
            "rows/s",
            create_rate,
            goal=GOAL_ROWS_PER_SECOND,
        ),
        Figure(
            SCENARIO,
            f"import, {large_label}, every profile updated",
            "rows/s",
            update_rate,
            goal=GOAL_ROWS_PER_SECOND,
        ),
        Figure(SCENARIO, f"peak RSS, {small_rows:,} rows", "MB", small_peak, better="lower"),
        Figure(SCENARIO, f"peak RSS, {large_label}", "MB", large_peak, better="lower"),
        Figure(
            SCENARIO,
            f"peak RSS, {large_label} / {small_rows:,} rows",
            "x",
            [round(big / little, 2) for big, little in zip(large_peak, small_peak, strict=True)],
            better="lower",
            goal=GOAL_MEMORY_GROWTH,
            note="flat memory",
        ),
    ]
    details = {
        "database": "postgresql",
        "path": "manage.py import_profiles (audiences.importing.profiles_import)",
        "rows": {"small": small_rows, "large": large_rows, "large_bad": large_bad},
        "file_mb": round(large.stat().st_size / 1e6, 1),
        "passes": passes,
    }
    out = results_write(SCENARIO, figures, details)
    print_figures(SCENARIO, figures)
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
