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
# An audience fan-out publishes larger send tasks: the claim, the read-back, the
# exclusions and the recording of a chunk cost about the same for 200 messages as for
# 50 (docs/performance.md, "Audience sends"). Emails are still recorded one by one.
AUDIENCE_SEND_BATCH_SIZE = 200
# The sweeper's grace period and claim lease are settings (CLARION_SWEEP_GRACE_SECONDS,
# CLARION_CLAIM_LEASE_SECONDS): the fault tests shorten them.
# At most this many messages are re-enqueued per sweep, so one sweep stays short.
SWEEP_MAX_MESSAGES = 20_000
# An audience fan-out that has not reported progress for this long lost its worker.
FANOUT_STALL = timedelta(minutes=5)

# --- Outbound webhooks (delivery/webhooks/, docs/webhooks.md) ---------------------------
# Delays before each try of a webhook delivery: the first at once, then backing off
# (close to Svix's schedule, capped at 8 h): 8 tries over about a day (23 h 36 min), as
# the issue asks, which outlasts a receiver that is down for a night.
WEBHOOK_RETRY_DELAYS = (
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=8),
    timedelta(hours=8),
)
WEBHOOK_MAX_ATTEMPTS = len(WEBHOOK_RETRY_DELAYS)
# An endpoint is disabled when one of its deliveries failed all its tries and it has
# not answered any request with a 2xx for this long (docs/webhooks.md).
WEBHOOK_DISABLE_AFTER = timedelta(hours=24)
# A claimed delivery comes back to the periodic task after this long (a worker died
# holding it). It outlasts a task's batch: WEBHOOK_BATCH_SIZE requests of at most
# connect + read timeouts each.
WEBHOOK_CLAIM_LEASE = timedelta(minutes=5)
WEBHOOK_BATCH_SIZE = 10
# Due deliveries claimed by one run of the periodic task (it runs every few seconds).
WEBHOOK_DUE_PER_RUN = 500
# One request: a receiver should answer at once and work later (docs/webhooks.md).
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5.0
WEBHOOK_READ_TIMEOUT_SECONDS = 10.0
# What an attempt keeps of the receiver's answer, for the admin.
WEBHOOK_RESPONSE_EXCERPT_BYTES = 1024
WEBHOOK_USER_AGENT = "Clarion-Webhooks/1.0 (+https://www.standardwebhooks.com)"
# Standard Webhooks: receivers refuse a timestamp further than this from their clock.
WEBHOOK_TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# How long the list of enabled endpoints is cached (every change also clears it).
WEBHOOK_ENDPOINTS_CACHE_SECONDS = 300
# Distinct links tracked per message; more are sent as they are. Their targets are stored
# on the message (delivery.models.Message.links), so a runaway template cannot bloat it.
MAX_TRACKED_LINKS = 200
# Retention (delivery.retention). Messages deleted per transaction by the purge: short
# transactions, and a SQLite writer is not held for long.
PURGE_BATCH_SIZE = 5_000
# Weekly partitions are made this many weeks ahead (PostgreSQL): a maintenance run
# missed for weeks still finds the current week's partition in place.
PARTITION_WEEKS_AHEAD = 4
# A partition whose lock is not granted within this time is left for the next purge,
# rather than holding up sending while waiting.
PURGE_LOCK_TIMEOUT_MS = 5_000
