"""Migration 0006_partitions and the retention purge, timed on PostgreSQL.

Run: `DATABASE_URL=postgres://.../some_scratch_db .venv/bin/python
benchmarks/bench_retention.py [--messages 1000000]`. The database of
``DATABASE_URL`` is migrated back to ``delivery 0005`` (the state before partitions) (its message tables emptied
first), filled with messages spread over 60 days (one attempt each, an event for
one in ten), migrated forward (timed), then purged twice: at 30 days (whole weeks,
and the week the cutoff falls in in batches), then at a week boundary two weeks ago
(whole weeks only). Use a scratch
database: its messages are deleted. Figures are quoted in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import Campaign  # noqa: E402
from campaigns.services.lifecycle import campaign_activate  # noqa: E402
from core.actors import Actor  # noqa: E402
from delivery.models import Execution  # noqa: E402
from delivery.retention.partitions import week_start  # noqa: E402
from delivery.retention.purge import messages_purge  # noqa: E402
from tests.factories import CampaignFactory  # noqa: E402

# Version 7 ids made in SQL: 48 bits of milliseconds, the version, then hash bits.
_FILL = """
INSERT INTO delivery_message (id, channel, position, recipient_type, namespace, user_id,
  address, recipient_profile, recipient_context, locale, status, reason, reason_detail,
  warnings, attempts, provider_message_id, accepted_at, updated_at, campaign_id,
  execution_id, version_id)
SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7'
        || substr(md5(g::text), 1, 3) || '8' || substr(md5(g::text), 4, 15))::uuid,
  'email', 0, 'external', '', 'u' || g, 'u' || g || '@example.com', '{}', '{}', '', 'sent',
  '', '', '[]', 1, '', t, t, %s, %s, %s
FROM generate_series(1, %s) g, LATERAL (SELECT now() - (g %% 60) * interval '1 day' AS t) x
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE delivery_messageevent, delivery_messageattempt, delivery_message")
    call_command("migrate", "delivery", "0005", verbosity=0)
    # A live campaign from an earlier run, or a new one.
    campaign = Campaign.objects.filter(live_version__isnull=False).first() or campaign_activate(
        campaign=CampaignFactory.create(), actor=Actor()
    )
    assert campaign.live_version is not None
    execution = Execution.objects.create(
        kind="unitary", campaign=campaign, version=campaign.live_version, status="succeeded"
    )
    with connection.cursor() as cursor:
        version = campaign.live_version_id
        cursor.execute(_FILL, [campaign.pk, execution.pk, version, args.messages])
        cursor.execute(
            "INSERT INTO delivery_messageattempt (message_id, number, outcome, code, detail, "
            "provider_message_id, at) SELECT id, 1, 'sent', '', '', '', accepted_at "
            "FROM delivery_message"
        )
        cursor.execute(
            "INSERT INTO delivery_messageevent (message_id, type, at, link, url, machine, first, "
            "user_agent, ip, provider, provider_event_id, reason, detail) SELECT id, 'opened', "
            "accepted_at, 0, '', false, true, '', '', '', '', '', '' FROM delivery_message "
            "WHERE user_id LIKE '%5'"
        )
    start = time.monotonic()
    call_command("migrate", "delivery", verbosity=0)
    print(f"{args.messages} messages: 0006_partitions in {time.monotonic() - start:.1f} s")
    for label, cutoff in (
        ("30 days ago", timezone.now() - timedelta(days=30)),
        ("a week boundary two weeks ago", week_start(timezone.now()) - timedelta(weeks=2)),
    ):
        start = time.monotonic()
        report = messages_purge(older_than=cutoff)
        print(
            f"purge at {label}: {time.monotonic() - start:.2f} s, "
            f"{len(report.partitions_dropped)} weeks dropped ({report.messages_in_dropped} "
            f"messages), {report.messages_deleted} deleted in batches"
        )


if __name__ == "__main__":
    main()
