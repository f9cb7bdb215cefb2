"""Profile import speed and memory: `manage.py import_profiles` on a generated CSV.

Run: `.venv/bin/python benchmarks/bench_import.py [--rows 100000 1000000]
[--databases sqlite postgres] [--database-url postgres://...]`.

For each row count, a CSV (email, firstName, lastName, loyalty.tier, locale,
consent.email; about 2% bad rows) is generated under var/bench/. For each
database a fresh one is made (a SQLite file under var/bench/, or the
PostgreSQL database of --database-url, dropped and created again), migrated,
and the file imported twice in a child process: the first run creates every
profile, the second updates them. Wall time, rows/s and the child's peak
resident memory (``os.wait4``: that child alone) are printed and written to
benchmarks/results/import.json. Figures are quoted in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/clarion_bench"
BAD_ROW_SHARE = 0.02
FIRST_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun"]
LAST_NAMES = ["Lee", "Silva", "Okafor", "Novak", "Tanaka", "Dubois", "Khan", "Berg"]
TIERS = ["bronze", "silver", "gold", "platinum"]
LOCALES = ["en", "en-GB", "fr-CA", "de", "zh-Hant-TW", "pt-BR"]
CONSENTS = ["opted_in", "opted_out", ""]


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


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def database_fresh(kind: str, postgres_url: str) -> dict[str, str]:
    """Environment for the child processes, pointing at a new, empty database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "LOG_LEVEL": "WARNING",
        "CLARION_DATA_DIR": str(BENCH_DIR / f"import-{kind}"),
    }
    env.pop("DATABASE_URL", None)
    if kind == "sqlite":
        shutil.rmtree(BENCH_DIR / "import-sqlite", ignore_errors=True)
    else:
        import psycopg
        from psycopg import sql

        admin_url, name = _admin_url(postgres_url)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        env["DATABASE_URL"] = postgres_url
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def import_run(path: Path, env: dict[str, str], batch_size: int) -> dict[str, object]:
    """One `import_profiles` child: wall time, its peak RSS, and the counts it printed."""
    command = [
        sys.executable,
        "manage.py",
        "import_profiles",
        str(path),
        "--namespace",
        "email",
        "--batch-size",
        str(batch_size),
        "--rejected",
        str(path.with_suffix(".rejected.csv")),
    ]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"import_profiles failed ({child.returncode}):\n{output}")
    counts = dict(
        (word, int(number))
        for word, number in (
            part.strip().split(" ") for part in output.strip().splitlines()[-1].split(",")
        )
    )
    rows = sum(counts.values())
    return {
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL; the database in it is dropped and created again.",
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    options = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)

    runs: list[dict[str, object]] = []
    for rows in options.rows:
        path, bad = csv_generate(rows)
        size_mb = round(path.stat().st_size / 1e6, 1)
        for database in options.databases:
            env = database_fresh(database, options.database_url)
            for label in ("create", "update"):
                result = import_run(path, env, options.batch_size)
                run = {
                    "database": database,
                    "rows": rows,
                    "file_mb": size_mb,
                    "bad_rows": bad,
                    "run": label,
                    **result,
                }
                runs.append(run)
                print(json.dumps(run), flush=True)

    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "batch_size": options.batch_size,
    }
    print(f"\nProfile import ({machine['cores']} cores, Python {machine['python']})")
    header = (
        f"{'database':<10}{'rows':>10}{'run':>8}{'seconds':>10}{'rows/s':>9}{'peak MB':>9}"
        f"{'created':>10}{'updated':>10}{'rejected':>10}"
    )
    print(header)
    for run in runs:
        print(
            f"{run['database']:<10}{run['rows']:>10}{run['run']:>8}{run['seconds']:>10}"
            f"{run['rows_per_second']:>9}{run['peak_mb']:>9}{run.get('created', 0):>10}"
            f"{run.get('updated', 0):>10}{run.get('rejected', 0):>10}"
        )
    out = ROOT / "benchmarks" / "results" / "import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "runs": runs}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
