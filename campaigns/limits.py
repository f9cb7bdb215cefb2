"""Limits of campaign authoring, each with its reason (one place for all)."""

from __future__ import annotations

MAX_LOCALES_PER_CAMPAIGN = 50  # reference: 50 locales per campaign
THROTTLE_MIN_PER_SECOND = 1  # reference: throttle 1 to 2000 messages per second
THROTTLE_MAX_PER_SECOND = 2000
PUSH_TITLE_WARN_LENGTH = 65  # longer titles are cut on most lock screens
SMS_MAX_SEGMENTS = 10  # carriers reject or split unreliably beyond ~10 parts
SMS_GSM7_SINGLE, SMS_GSM7_PART = 160, 153  # 3GPP TS 23.038, with UDH for concatenation
SMS_UCS2_SINGLE, SMS_UCS2_PART = 70, 67
NAME_MAX_LENGTH = 200

# Liquid resource limits for templates written by marketers (untrusted authors).
LIQUID_LOOP_ITERATION_LIMIT = 10_000
LIQUID_OUTPUT_STREAM_LIMIT = 1_000_000  # characters of rendered output
LIQUID_CONTEXT_DEPTH_LIMIT = 30
LIQUID_LOCAL_NAMESPACE_LIMIT = 100_000
# Parsed templates kept per process, bounded by count and by the characters of their
# sources (a parsed tree takes a few times its source). Counting alone let 2,048 entries
# of one megabyte each (gigabytes once parsed) stay in every worker.
LIQUID_VERSION_CACHE_ENTRIES = 2048  # (version, locale, part): ~100 versions of 5 locales
LIQUID_VERSION_CACHE_SOURCE_CHARS = 16_000_000
LIQUID_SOURCE_CACHE_ENTRIES = 512  # unsaved sources: draft previews, validation
LIQUID_SOURCE_CACHE_SOURCE_CHARS = 4_000_000
# Typed readers of frozen version snapshots kept per process (their content's characters).
VERSION_SNAPSHOT_CACHE_ENTRIES = 1024
VERSION_SNAPSHOT_CACHE_CHARS = 16_000_000
