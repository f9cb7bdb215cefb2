"""Partition maintenance: the coming weeks' partitions exist before their first message.

Run by beat (``message-partitions-ensure``, daily) and after every ``migrate`` (so
``make run`` starts with them). Partitions are made ``PARTITION_WEEKS_AHEAD`` weeks
ahead, so a missed day or two changes nothing; if a week was missed altogether, its
rows went to the DEFAULT partition and are moved into the week's partition when it is
made (delivery.retention.partitions.partition_week_create).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from delivery.limits import PARTITION_WEEKS_AHEAD
from delivery.retention.partitions import (
    partition_name,
    partition_week_create,
    partitioning_enabled,
    week_start,
)

logger = logging.getLogger(__name__)


def message_partitions_ensure(
    *,
    now: datetime | None = None,
    weeks_ahead: int = PARTITION_WEEKS_AHEAD,
    using: str = DEFAULT_DB_ALIAS,
) -> list[str]:
    """Make the partitions of this week and the ``weeks_ahead`` after it that are missing;
    returns the message partitions made (none on SQLite, none when all exist)."""
    connection = connections[using]
    if not partitioning_enabled(connection):
        return []
    this_week = week_start(now or timezone.now())
    made = []
    for n in range(weeks_ahead + 1):
        monday = this_week + timedelta(weeks=n)
        # One week per transaction: its three partitions appear together or not at all.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if partition_week_create(connection, cursor, monday):
                made.append(partition_name("delivery_message", monday))
    if made:
        logger.info("message partitions made: %s", ", ".join(made))
    return made
