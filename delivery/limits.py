"""Limits and timings of the trigger API and of sending, each with its reason (one place for all)."""

from __future__ import annotations

from datetime import timedelta

MAX_RECIPIENTS_PER_CALL = 100  # reference allows 20, Braze 50, Novu 100
MAX_CONTEXT_BYTES = 200 * 1024  # reference: 200 KB of context per call; ours per recipient
MAX_REQUEST_ID_LENGTH = 255
MAX_USER_ID_LENGTH = 320  # the longest valid email address (RFC 3696 errata)

# Idempotency records are kept this long, then pruned (brief: 24 hours).
IDEMPOTENCY_TTL = timedelta(hours=24)
# How long a call waits for a concurrent call with the same idempotency key to commit
# before it answers 409 (PostgreSQL's lock_timeout on the record's unique index).
IDEMPOTENCY_WAIT_MS = 2000

# Messages sent per send task: one SMTP connection and one status update per batch.
SEND_BATCH_SIZE = 50
# The sweeper's grace period and claim lease are settings (CLARION_SWEEP_GRACE_SECONDS,
# CLARION_CLAIM_LEASE_SECONDS): the fault tests shorten them.
# At most this many messages are re-enqueued per sweep, so one sweep stays short.
SWEEP_MAX_MESSAGES = 20_000
# An audience fan-out that has not reported progress for this long lost its worker.
FANOUT_STALL = timedelta(minutes=5)

# Retention (delivery.retention). Messages deleted per transaction by the purge: short
# transactions, and a SQLite writer is not held for long.
PURGE_BATCH_SIZE = 5_000
# Weekly partitions are made this many weeks ahead (PostgreSQL): a maintenance run
# missed for weeks still finds the current week's partition in place.
PARTITION_WEEKS_AHEAD = 4
# A partition whose lock is not granted within this time is left for the next purge,
# rather than holding up sending while waiting.
PURGE_LOCK_TIMEOUT_MS = 5_000
