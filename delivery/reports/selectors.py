"""A campaign's report, read from the hourly rollups (never from message rows).

One ``SUM ... GROUP BY`` over ``ReportCounter`` per report, served by the rollups'
unique index (campaign, hour, ...): its cost depends on the number of hours and
groups in the window, not on the number of messages. Windows are whole hours
(docs/reports.md, "Windows"):

- live: every hour that overlaps the last 24 hours, so from the start of the hour
  24 hours ago to now (between 24 and 25 hours). Rollups commit with the rows they
  count, so the live report is as current as the database;
- all: every hour;
- range: from ``start`` (rounded down to its hour) to ``end`` (rounded up), end excluded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign, CampaignVersion
from delivery.models import EventType, Message, MessageEvent, ReportCounter
from delivery.reports.metrics import Metrics

LIVE_HOURS = 24  # the reference's live report: the last 24 hours
# Link targets are read from the clicks on the campaign's latest messages: a bounded
# look-up (the campaign's index on messages, then the events' index on message).
LINK_TARGET_MESSAGES = 2_000
HOUR = timedelta(hours=1)


class GroupBy:
    LOCALE = "locale"
    VERSION = "version"
    VARIANT = "variant"
    HOUR = "hour"
    CHOICES = (LOCALE, VERSION, VARIANT, HOUR)


class WindowName:
    LIVE = "live"
    ALL = "all"
    RANGE = "range"


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_ceil(at: datetime) -> datetime:
    floor = hour_floor(at)
    return floor if floor == at.astimezone(UTC) else floor + HOUR


def _or_open(round_: Callable[[datetime], datetime], at: datetime | None) -> datetime | None:
    """``at`` rounded to its hour; None (no bound) at the ends of the calendar (year 1
    or 9999), where rounding overflows and every stored hour is inside anyway."""
    if at is None:
        return None
    try:
        return round_(at)
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The hours a report covers: ``start`` included, ``end`` excluded; None is open."""

    name: str
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def live(cls, *, now: datetime | None = None) -> ReportWindow:
        now = now or timezone.now()
        return cls(WindowName.LIVE, start=hour_floor(now - LIVE_HOURS * HOUR))

    @classmethod
    def all(cls) -> ReportWindow:
        return cls(WindowName.ALL)

    @classmethod
    def range(cls, *, start: datetime | None, end: datetime | None) -> ReportWindow:
        """Whole hours around ``start`` and ``end``; the caller checks start < end."""
        return cls(
            WindowName.RANGE,
            start=_or_open(hour_floor, start),
            end=_or_open(hour_ceil, end),
        )

    def slug(self) -> str:
        """For file names: ``live-20260101T1300``, ``all``, ``20260101T00-20260108T00``."""
        if self.name == WindowName.ALL:
            return "all"
        if self.name == WindowName.LIVE and self.start is not None:
            return f"live-{self.start:%Y%m%dT%H}"
        start = f"{self.start:%Y%m%dT%H}" if self.start else "start"
        end = f"{self.end:%Y%m%dT%H}" if self.end else "now"
        return f"{start}-{end}"


@dataclass(frozen=True, slots=True)
class ReportGroup:
    """One group of a grouped report: its key (a locale, a version number, a variant,
    an hour in ISO 8601) and its metrics."""

    key: str
    metrics: Metrics
    sums: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Report:
    campaign: Campaign
    window: ReportWindow
    group_by: str | None
    totals: Metrics
    groups: list[ReportGroup] = field(default_factory=list)
    generated_at: datetime = field(default_factory=timezone.now)


def _counters(campaign: Campaign, window: ReportWindow) -> QuerySet[ReportCounter]:
    rows = ReportCounter.objects.filter(campaign=campaign)
    if window.start is not None:
        rows = rows.filter(hour__gte=window.start)
    if window.end is not None:
        rows = rows.filter(hour__lt=window.end)
    return rows


def _column(group_by: str) -> str:
    return {"version": "version_id"}.get(group_by, group_by)


def campaign_report(
    *,
    campaign: Campaign,
    window: ReportWindow,
    group_by: str | None = None,
    link_targets: bool = True,
) -> Report:
    """The report of ``campaign`` over ``window``, grouped by ``group_by`` (GroupBy).

    Queries: one over the rollups; one for the version numbers when grouped by
    version; one (bounded) for the link targets when there are clicks.
    """
    column = _column(group_by) if group_by else None
    names = [column] if column else []
    sums: dict[Any, dict[tuple[str, str], int]] = defaultdict(dict)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in (
        _counters(campaign, window)
        .values(*names, "metric", "key")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        group = row[column] if column else None
        sums[group][(row["metric"], row["key"])] = row["n"]
        totals[(row["metric"], row["key"])] += row["n"]
    delivered_base = totals.get(("delivered", ""), 0) > 0
    metrics = Metrics.from_sums(totals, delivered_base=delivered_base)
    targets = _link_targets(campaign, set(metrics.links)) if link_targets else {}
    metrics = _with_targets(metrics, targets)
    groups: list[ReportGroup] = []
    if column:
        keys = _group_keys(campaign, group_by, list(sums))
        for group in sorted(sums, key=lambda g: keys[g][0]):
            groups.append(
                ReportGroup(
                    key=keys[group][1],
                    metrics=_with_targets(
                        Metrics.from_sums(sums[group], delivered_base=delivered_base), targets
                    ),
                    sums=sums[group],
                )
            )
    return Report(
        campaign=campaign, window=window, group_by=group_by, totals=metrics, groups=groups
    )


def _group_keys(
    campaign: Campaign, group_by: str | None, groups: list[Any]
) -> dict[Any, tuple[Any, str]]:
    """Each group's (sort key, key as shown)."""
    if group_by == GroupBy.VERSION:
        numbers = dict(
            CampaignVersion.objects.filter(campaign=campaign, pk__in=groups).values_list(
                "pk", "number"
            )
        )
        return {g: (numbers.get(g, 0), str(numbers.get(g, g))) for g in groups}
    if group_by == GroupBy.HOUR:
        return {g: (g, hour_floor(g).isoformat().replace("+00:00", "Z")) for g in groups}
    return {g: (g, g) for g in groups}


def _with_targets(metrics: Metrics, targets: dict[int, str]) -> Metrics:
    if not metrics.links or not targets:
        return metrics
    links = {n: replace(link, url=targets.get(n, "")) for n, link in metrics.links.items()}
    return replace(metrics, links=links)


def _link_targets(campaign: Campaign, links: set[int]) -> dict[int, str]:
    """A target for each link index, as clicked on the campaign's latest messages.

    Bounded: at most ``LINK_TARGET_MESSAGES`` messages are looked at, so a link
    nobody clicked lately has no target shown. A link's target can differ between
    messages (personalised links, locales); this shows the latest seen.
    """
    if not links:
        return {}
    latest = Message.objects.filter(campaign=campaign).order_by("-accepted_at")[
        :LINK_TARGET_MESSAGES
    ]
    found: dict[int, str] = {}
    for link, url in (
        MessageEvent.objects.filter(
            message__in=latest.values("pk"), type=EventType.CLICKED, link__in=sorted(links)
        )
        .exclude(url="")
        .order_by("link", "-at")
        .values_list("link", "url")
    ):
        found.setdefault(link, url)
    return found


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    start: datetime
    metrics: Metrics


# Beyond this many days a series has one point per UTC day: hourly points are too
# thin to read on a phone.
SERIES_HOURLY_DAYS = 3


# How far before its first counts a chart may start (a range asked from long before).
SERIES_EMPTY_LEAD = timedelta(days=31)


def report_series(report: Report, *, now: datetime | None = None) -> list[SeriesPoint]:
    """An hourly report's groups as a gap-free series for charts: hourly for up to
    ``SERIES_HOURLY_DAYS`` days, daily beyond."""
    if report.group_by != GroupBy.HOUR:
        raise ValueError("a series is read from a report grouped by hour")
    if not report.groups:
        return []
    hours = {datetime.fromisoformat(g.key): g.sums for g in report.groups}
    # From the window's start (a live chart shows its 24 hours), unless that is far
    # before the first counts: a chart of empty years helps no one.
    first = min(hours)
    if report.window.start is not None and report.window.start >= first - SERIES_EMPTY_LEAD:
        first = report.window.start
    last = hour_floor(now or timezone.now())
    if report.window.end is not None:
        last = min(last, report.window.end - HOUR)
    last = max(last, max(hours))
    daily = (last - first) > timedelta(days=SERIES_HOURLY_DAYS)
    step = timedelta(days=1) if daily else HOUR
    if daily:
        first = first.replace(hour=0)
    sums: dict[datetime, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for hour, counts in hours.items():
        bucket = sums[hour.replace(hour=0) if daily else hour]
        for name, count in counts.items():
            bucket[name] += count
    delivered_base = report.totals.delivered_base
    points: list[SeriesPoint] = []
    at = first
    while at <= last:
        points.append(
            SeriesPoint(
                start=at, metrics=Metrics.from_sums(sums.get(at, {}), delivered_base=delivered_base)
            )
        )
        at += step
    return points
