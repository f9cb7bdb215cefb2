"""``manage.py report_rebuild``: check or rebuild campaigns' report rollups from the rows.

After restoring a backup the rollups and the rows can disagree; ``--check`` lists
the differences (exit status 1 when there are any), and without it the rollups are
replaced by the rows' counts (delivery.reports.rebuild). After a retention purge,
give ``--since`` the oldest hour still held in rows, or the purged hours are lost.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from campaigns.models import Campaign
from delivery.reports.rebuild import report_counts_check, report_counts_rebuild

MAX_DIFFERENCES_SHOWN = 20


class Command(BaseCommand):
    help = "Check (--check) or rebuild the report rollups of campaigns from the message rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaigns", nargs="*", help="Campaign ids (default: every campaign).")
        parser.add_argument(
            "--check", action="store_true", help="Compare only; exit 1 when they differ."
        )
        parser.add_argument(
            "--since",
            help="Only the hours from this ISO 8601 time on (with a time zone), e.g. after a purge.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None or since.tzinfo is None:
                raise CommandError("--since takes an ISO 8601 time with a time zone.")
        campaigns = Campaign.objects.order_by("created_at")
        if options["campaigns"]:
            campaigns = campaigns.filter(pk__in=options["campaigns"])
            if campaigns.count() != len(set(options["campaigns"])):
                raise CommandError("Some campaign ids name no campaign.")
        differing = 0
        for campaign_id, name in campaigns.values_list("pk", "name"):
            if options["check"]:
                differences = report_counts_check(campaign_id=campaign_id, since=since)
                differing += bool(differences)
                status = f"{len(differences)} differences" if differences else "exact"
                self.stdout.write(f"{campaign_id} {name}: {status}")
                for difference in differences[:MAX_DIFFERENCES_SHOWN]:
                    _campaign, hour, version, locale, _variant, metric, key = difference.key
                    self.stdout.write(
                        f"  {hour:%Y-%m-%d %H:00} version {version} locale {locale or '-'} "
                        f"{metric} {key}: stored {difference.stored}, rows {difference.counted}"
                    )
            else:
                written = report_counts_rebuild(campaign_id=campaign_id, since=since)
                self.stdout.write(f"{campaign_id} {name}: {written} rollups written")
        if differing:
            raise CommandError(f"{differing} campaigns' rollups differ from their rows.")
