"""``manage.py purge_messages [--dry-run] [--days N]``: the retention purge, by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from delivery.retention.purge import messages_purge


class Command(BaseCommand):
    help = (
        "Delete final messages (with their attempts and events) older than the retention "
        "period, and the executions left without messages. Report counts stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would go; delete nothing."
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days (default: CLARION_MESSAGE_RETENTION_DAYS). At least 1.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.CLARION_MESSAGE_RETENTION_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1.")
        older_than = timezone.now() - timedelta(days=days)
        dry_run = bool(options["dry_run"])
        report = messages_purge(older_than=older_than, dry_run=dry_run)
        verb = "Would purge" if dry_run else "Purged"
        self.stdout.write(
            f"{verb} messages accepted before {older_than:%Y-%m-%d %H:%M} UTC "
            f"({days} days):\n"
            f"  partitions dropped: {len(report.partitions_dropped)} "
            f"({report.messages_in_dropped} messages)"
            + "".join(f"\n    {name}" for name in report.partitions_dropped)
            + f"\n  partitions kept (not all final): {len(report.partitions_kept)}"
            + "".join(f"\n    {name}" for name in report.partitions_kept)
            + f"\n  messages deleted in batches: {report.messages_deleted}"
            f"\n  executions deleted: {report.executions_deleted}"
            + "".join(
                f"\n  {label}: {count}"
                for label, count in sorted(report.registered_deleted.items())
            )
        )
