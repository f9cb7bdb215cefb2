"""Retention: old message rows purged, and on PostgreSQL the tables partitioned by week."""
