"""Report speed (issue 8): a campaign with 10 million messages, its report in under a second.

Run: `.venv/bin/python benchmarks/bench_report.py [--messages 10000000] [--days 30]
[--runs 7] [--quick] [--database-url postgres://.../clarion_bench_report] [--keep]` (or
`make bench-report`, or `make bench BENCH_ARGS=--with-report`: not part of a plain
`make bench`, since the default size takes about 25 minutes and 8 GiB of disk).
`--quick` generates 100,000 messages and times each request once: a smoke run whose
figures say nothing about 10 million. Needs PostgreSQL. In one invocation it:

1. drops and creates the database of --database-url, migrates it, and seeds the demo
   data (a superuser, a live email campaign) and an API key with `campaigns:read`;
2. generates --messages messages of that campaign with `INSERT ... SELECT
   generate_series`, in batches of a million, spread evenly over the last --days days,
   in four locales (en 50 %, fr 30 %, de 10 %, pt-BR 10 %) with the statuses and
   reasons of a real send: 3 % failed (three reasons), 5 % excluded before rendering
   (three reasons), 2 % sent without feedback, 2 % bounced, 0.1 % complained, the rest
   delivered; 4 % retried once (attempt rows: only the retries are written); and their
   events: a `delivered` per delivered, bounced or complained message, human opens for
   25 % of delivered messages (10 % open twice), machine opens for 12 %, clicks on one
   of three links for 5 % (1 % click a second link), soft bounces for 1 %, a complaint
   per complained message;
3. builds the rollups from those rows with `report_counts_rebuild` (timed), and checks
   that the report's totals equal counts taken directly from the rows;
4. times, --runs times each (median, min, max): `GET /api/v1/campaigns/{id}/report`
   all time, live, `groupBy=locale` and `groupBy=hour`, and the admin report page all
   time and live, in process through Django's test client (the whole request:
   middleware, authentication, the view, serialisation or template rendering; no
   network);
5. prints a Markdown table, writes benchmarks/results/report.json (scenario `report`,
   one figure per request against issue 8's goal of under a second, through
   benchmarks/harness.py), and drops the database (unless --keep).
"""

from __future__ import annotations

import argparse
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

from benchmarks.harness import Figure, print_figures, results_write  # noqa: E402

BATCH = 1_000_000
QUICK_MESSAGES = 100_000
# Issue 8: the report of a campaign with 10 million messages renders in under a second.
REPORT_MS_GOAL = 1_000
LOCALES_SQL = (
    "CASE WHEN i %% 10 < 5 THEN 'en' WHEN i %% 10 < 8 THEN 'fr' "
    "WHEN i %% 10 = 8 THEN 'de' ELSE 'pt-BR' END"
)


def options_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/clarion_bench_report",
        help="PostgreSQL; this database is dropped, created again and dropped at the end.",
    )
    add("--messages", type=int, default=None, help="Messages to generate (10,000,000).")
    add("--days", type=int, default=30, help="Days the messages are spread over.")
    add("--runs", type=int, default=7, help="Timed runs per request.")
    add("--quick", action="store_true", help="100,000 messages, one timed run per request.")
    add("--keep", action="store_true", help="Keep the database afterwards.")
    options = parser.parse_args()
    if options.messages is None:
        options.messages = QUICK_MESSAGES if options.quick else 10_000_000
    if options.quick:
        options.runs = 1
    return options


def _admin_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def database_recreate(database_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    admin_url, name = _admin_url(database_url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ.pop("REDIS_URL", None)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    import django

    django.setup()


class Clock:
    """Seconds taken by each named step."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def step(self, name: str, started: float) -> None:
        self.steps[name] = round(time.perf_counter() - started, 2)
        print(f"  {name}: {self.steps[name]:.1f} s", flush=True)


def generate(*, campaign: Any, messages: int, days: int) -> None:
    """Messages, retry attempts and events of ``campaign`` (see the module docstring)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from delivery.models import Execution, ExecutionKind, ExecutionStatus

    end = timezone.now()
    start = end - __import__("datetime").timedelta(days=days)
    span = (end - start).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    for first in range(0, messages, BATCH):
        last = min(messages, first + BATCH) - 1
        with transaction.atomic():
            execution = Execution.objects.create(
                kind=ExecutionKind.AUDIENCE,
                campaign=campaign,
                version_id=campaign.live_version_id,
                status=ExecutionStatus.SUCCEEDED,
                targeted_count=last - first + 1,
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    _MESSAGES_SQL.format(locale=LOCALES_SQL),
                    {
                        "first": first,
                        "last": last,
                        "n": messages,
                        "start": start,
                        "span": span,
                        "execution": execution.pk,
                        "campaign": campaign.pk,
                        "version": campaign.live_version_id,
                    },
                )
        print(f"    messages {last + 1:,}", flush=True)
    with connection.cursor() as cursor:
        for name, sql in _EVENTS_SQL:
            cursor.execute(sql, {"campaign": campaign.pk})
            print(f"    {name}: {cursor.rowcount:,} rows", flush=True)
        cursor.execute("ANALYZE")


# Outcome by r = i * 7919 % 1000 (a spread-out, repeatable pseudo-random number):
# < 30 failed, < 80 excluded, < 100 sent (no feedback), < 120 bounced, < 121 complained,
# else delivered. ``position`` keeps i, which the event statements below read.
_MESSAGES_SQL = """
INSERT INTO delivery_message (
    id, execution_id, campaign_id, version_id, channel, position, recipient_type, namespace,
    user_id, address, recipient_profile, recipient_context, locale, status, reason,
    reason_detail, warnings, attempts, provider_message_id, accepted_at, sent_at, updated_at,
    feedback_at, links
)
SELECT
    gen_random_uuid(), %(execution)s, %(campaign)s, %(version)s, 'email', i, 'aep', 'email',
    'p' || i || '@example.com', 'p' || i || '@example.com', '{{}}', '{{}}',
    CASE WHEN r >= 30 AND r < 80 THEN '' ELSE {locale} END,
    CASE WHEN r < 30 THEN 'failed' WHEN r < 80 THEN 'excluded' WHEN r < 100 THEN 'sent'
         WHEN r < 120 THEN 'bounced' WHEN r < 121 THEN 'complained' ELSE 'delivered' END,
    CASE WHEN r < 10 THEN 'smtp_550' WHEN r < 20 THEN 'render_failed'
         WHEN r < 30 THEN 'transport_exception' WHEN r < 50 THEN 'no_consent'
         WHEN r < 70 THEN 'suppressed' WHEN r < 80 THEN 'no_address' ELSE '' END,
    '', '[]', CASE WHEN r >= 30 AND r < 80 THEN 0 ELSE 1 END, '',
    at, CASE WHEN r >= 80 THEN at + interval '2 seconds' END, at + interval '2 seconds',
    CASE WHEN r >= 100 THEN at + interval '1 minute' END, '[]'
FROM (
    SELECT i, i * 7919 %% 1000 AS r,
           %(start)s::timestamptz + (i::float8 / %(n)s * %(span)s) * interval '1 second' AS at
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
) AS numbered
"""

# Each statement reads the campaign's messages once; ``position`` is i.
_MINE = "FROM delivery_message m WHERE m.campaign_id = %(campaign)s"
_FEEDBACK = "m.status IN ('delivered', 'bounced', 'complained')"
_OPENABLE = "m.status IN ('delivered', 'complained')"
_EVENT_COLUMNS = (
    "INSERT INTO delivery_messageevent (message_id, type, at, link, url, machine, first, "
    "user_agent, ip, provider, provider_event_id, reason, detail) "
)
_EVENTS_SQL = [
    (
        "retry attempts",
        "INSERT INTO delivery_messageattempt (message_id, number, outcome, code, detail, "
        "provider_message_id, at) SELECT m.id, 1, 'retry', 'smtp_421', '', '', "
        f"m.accepted_at + interval '1 second' {_MINE} AND m.position::bigint * 104729 %% 100 < 4 "
        "AND m.status <> 'excluded'",
    ),
    (
        "delivered events",
        f"{_EVENT_COLUMNS} SELECT m.id, 'delivered', m.feedback_at, 0, '', false, true, '', '', "
        f"'ses', 'd-' || m.position, '', '' {_MINE} AND {_FEEDBACK}",
    ),
    (
        "hard bounce events",
        f"{_EVENT_COLUMNS} SELECT m.id, 'bounced', m.feedback_at + interval '1 second', 0, '', "
        f"false, true, '', '', 'ses', 'b-' || m.position, 'hard', '' {_MINE} "
        "AND m.status = 'bounced'",
    ),
    (
        "soft bounce events",
        f"{_EVENT_COLUMNS} SELECT m.id, 'deferred', m.sent_at + interval '30 seconds', 0, '', "
        f"false, true, '', '', 'ses', 's-' || m.position, 'soft', '' {_MINE} "
        "AND m.status = 'delivered' AND m.position::bigint * 53 %% 100 < 1",
    ),
    (
        "complaint events",
        f"{_EVENT_COLUMNS} SELECT m.id, 'complained', m.feedback_at + interval '1 hour', 0, '', "
        f"false, true, '', '', 'ses', 'c-' || m.position, '', '' {_MINE} "
        "AND m.status = 'complained'",
    ),
    (
        "human opens",
        f"{_EVENT_COLUMNS} SELECT m.id, 'opened', m.sent_at + interval '1 hour', 0, '', false, "
        f"true, 'Mozilla/5.0', '192.0.2.0/24', '', '', '', '' {_MINE} AND {_OPENABLE} "
        "AND m.position::bigint * 31 %% 100 < 25",
    ),
    (
        "second human opens",
        f"{_EVENT_COLUMNS} SELECT m.id, 'opened', m.sent_at + interval '5 hours', 0, '', false, "
        f"false, 'Mozilla/5.0', '192.0.2.0/24', '', '', '', '' {_MINE} AND {_OPENABLE} "
        "AND m.position::bigint * 31 %% 100 < 10",
    ),
    (
        "machine opens",
        f"{_EVENT_COLUMNS} SELECT m.id, 'opened', m.sent_at + interval '1 minute', 0, '', true, "
        f"true, 'Mozilla/5.0', '17.58.0.0/24', '', '', '', '' {_MINE} AND {_OPENABLE} "
        "AND m.position::bigint * 41 %% 100 < 12",
    ),
    (
        "clicks",
        f"{_EVENT_COLUMNS} SELECT m.id, 'clicked', m.sent_at + interval '1 hour 30 seconds', "
        "1 + m.position %% 3, 'https://shop.example/' || (1 + m.position %% 3), false, true, "
        f"'Mozilla/5.0', '192.0.2.0/24', '', '', '', '' {_MINE} AND {_OPENABLE} "
        "AND m.position::bigint * 43 %% 100 < 5",
    ),
    (
        "second-link clicks",
        f"{_EVENT_COLUMNS} SELECT m.id, 'clicked', m.sent_at + interval '2 hours', "
        "1 + (m.position + 1) %% 3, 'https://shop.example/' || (1 + (m.position + 1) %% 3), "
        f"false, true, 'Mozilla/5.0', '192.0.2.0/24', '', '', '', '' {_MINE} AND {_OPENABLE} "
        "AND m.position::bigint * 43 %% 100 < 1",
    ),
]


def rows_check(campaign: Any, totals: Any) -> dict[str, list[int]]:
    """Totals of the report beside counts taken directly from the rows; must be equal."""
    from delivery.models import Message, MessageAttempt, MessageEvent

    messages = Message.objects.filter(campaign=campaign)
    events = MessageEvent.objects.filter(message__campaign=campaign)
    pairs = {
        "targeted": (totals.targeted, messages.count()),
        "sent": (
            totals.sent,
            messages.filter(status__in=("sent", "delivered", "bounced", "complained")).count(),
        ),
        "failed": (totals.failed_total, messages.filter(status="failed").count()),
        "excluded": (totals.excluded_total, messages.filter(status="excluded").count()),
        "retried": (
            totals.retried,
            MessageAttempt.objects.filter(message__campaign=campaign, outcome="retry").count(),
        ),
        "delivered": (totals.delivered, events.filter(type="delivered").count()),
        "opens": (totals.opens, events.filter(type="opened", machine=False).count()),
        "clicks": (totals.clicks, events.filter(type="clicked", machine=False).count()),
    }
    return {name: list(pair) for name, pair in pairs.items()}


def timed(runs: int, call: Any) -> dict[str, Any]:
    call()  # warm: imports, template loading, the key and campaign caches
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "min_ms": round(min(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "runs_ms": [round(value * 1000, 1) for value in seconds],
    }


def main() -> int:
    options = options_parse()
    clock = Clock()
    print(f"Report benchmark: {options.messages:,} messages over {options.days} days")
    started = time.perf_counter()
    database_recreate(options.database_url)
    django_setup(options.database_url)
    try:
        return _run(options, clock, started)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            database_recreate(options.database_url, drop_only=True)
            print("Benchmark database dropped.")


def _run(options: argparse.Namespace, clock: Clock, started: float) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from campaigns.services.demo import demo_seed
    from core.apikeys import api_key_create
    from delivery.reports.rebuild import report_counts_rebuild
    from delivery.reports.selectors import ReportWindow, campaign_report

    call_command("migrate", verbosity=0)
    seed = demo_seed(password=secrets.token_urlsafe(16))  # the admin client logs in directly
    campaign = seed.campaign
    _key, secret = api_key_create(name="bench-report", scopes=("campaigns:read",))
    clock.step("setup", started)

    started = time.perf_counter()
    generate(campaign=campaign, messages=options.messages, days=options.days)
    clock.step("generate", started)

    started = time.perf_counter()
    written = report_counts_rebuild(campaign_id=campaign.pk)
    clock.step("rebuild", started)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE delivery_reportcounter")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]

    totals = campaign_report(campaign=campaign, window=ReportWindow.all()).totals
    checked = rows_check(campaign, totals)
    exact = all(a == b for a, b in checked.values())
    print(f"  report equals the rows: {exact} {checked}")

    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    admin = Client()
    admin.force_login(seed.user)
    base = f"/api/v1/campaigns/{campaign.pk}/report"
    page = f"/admin/campaigns/campaign/{campaign.pk}/report/"

    def get(client: Client, url: str) -> Any:
        def call() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    cases = [
        ("API, all time", get(api, base)),
        ("API, live (24 h)", get(api, f"{base}?window=live")),
        ("API, all time, groupBy=locale", get(api, f"{base}?groupBy=locale")),
        ("API, all time, groupBy=hour", get(api, f"{base}?groupBy=hour")),
        ("API, live, groupBy=hour", get(api, f"{base}?window=live&groupBy=hour")),
        ("admin page, all time", get(admin, f"{page}?window=all")),
        ("admin page, live", get(admin, f"{page}?window=live")),
        ("admin CSV, all time", get(admin, f"{page}?window=all&format=csv")),
    ]
    timings = {name: timed(options.runs, call) for name, call in cases}

    print()
    print(
        f"{options.messages:,} messages, {written:,} rollup rows, database "
        f"{size / 2**30:.1f} GiB, {os.cpu_count()} cores"
    )
    print()
    print("| request | median | min | max |")
    print("| --- | ---: | ---: | ---: |")
    for name, timing in timings.items():
        print(
            f"| {name} | {timing['median_ms']} ms | {timing['min_ms']} ms | {timing['max_ms']} ms |"
        )
    size_words = f"{options.messages:,} messages"
    figures = [
        Figure(
            "report",
            f"{name}, {size_words}",
            "ms",
            timing["runs_ms"],
            better="lower",
            goal=REPORT_MS_GOAL,
            note="in process, no network",
        )
        for name, timing in timings.items()
    ]
    print_figures("report", figures)
    details = {
        "messages": options.messages,
        "days": options.days,
        "runs": options.runs,
        "rollup_rows": written,
        "database_bytes": size,
        "steps_seconds": clock.steps,
        "report_equals_rows": exact,
        "checked": checked,
        "timings": timings,
    }
    out = results_write("report", figures, details)
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
