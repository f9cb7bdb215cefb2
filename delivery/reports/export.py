"""A report as CSV: one row per group, metric and key (docs/reports.md, "CSV").

Columns: ``group_by`` (``total``, ``locale``, ``version``, ``hour``...), ``group``
(the group's key; empty for the total), ``metric``, ``key`` (a reason, a link index,
or empty) and ``value`` (a count, or a rate between 0 and 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from delivery.reports.metrics import Metrics
from delivery.reports.selectors import Report

CSV_COLUMNS = ("group_by", "group", "metric", "key", "value")
Row = tuple[str, str, str | int | float]


def metrics_rows(metrics: Metrics) -> Iterator[Row]:
    """(metric, key, value) for every number of ``metrics``, in a stable order."""
    for name in ("targeted", "sent", "delivered"):
        yield name, "", getattr(metrics, name)
    yield "bounced", "hard", metrics.bounced_hard
    yield "bounced", "soft", metrics.bounced_soft
    yield "failed", "", metrics.failed_total
    for reason, count in metrics.failed.items():
        yield "failed", reason, count
    yield "excluded", "", metrics.excluded_total
    for reason, count in metrics.excluded.items():
        yield "excluded", reason, count
    for name in ("retried", "rejected", "complained", "unsubscribed", "resubscribed"):
        yield name, "", getattr(metrics, name)
    yield "opens", "", metrics.opens
    yield "opens_unique", "", metrics.opens_unique
    yield "opens_machine", "", metrics.opens_machine
    yield "opens_machine_unique", "", metrics.opens_machine_unique
    yield "opens_estimated", "", metrics.opens_estimated
    yield "clicks", "", metrics.clicks
    yield "clicks_unique", "", metrics.clickers
    yield "clicks_machine", "", metrics.clicks_machine
    for link in metrics.links.values():
        yield "link_clicks", str(link.link), link.total
        yield "link_clicks_unique", str(link.link), link.unique
        yield "link_clicks_machine", str(link.link), link.machine
    for name, rate in (
        ("click_through_rate", metrics.click_through_rate),
        ("click_to_open_rate", metrics.click_to_open_rate),
    ):
        yield name, "", "" if rate is None else rate


def report_csv(reports: Sequence[Report]) -> str:
    """The totals of the first report, then the groups of each, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    if reports:
        writer.writerows(_rows("total", "", reports[0].totals))
    for report in reports:
        for group in report.groups:
            writer.writerows(_rows(report.group_by or "", group.key, group.metrics))
    return out.getvalue()


def _rows(group_by: str, group: str, metrics: Metrics) -> Iterable[tuple[object, ...]]:
    for metric, key, value in metrics_rows(metrics):
        yield (group_by, _safe(group), metric, _safe(key), value)


def _safe(text: str) -> str:
    """Spreadsheets run a cell starting with =, +, - or @ as a formula (CSV injection);
    keys come from data (reasons, locales), so such a cell is quoted with a '."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
