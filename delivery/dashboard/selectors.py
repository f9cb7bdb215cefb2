"""What the dashboard and the reports index read, each part in one query whatever the data.

Sends and failures come from the report rollups (``ReportCounter``), never from
message rows: one ``SUM ... GROUP BY hour, metric`` over the last seven days gives
today's numbers, the last 24 hours' failure rate and the chart. Every part reads
only the campaigns the person may see (access labels, ``campaign_list_visible``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from campaigns.models import Campaign, Status
from campaigns.selectors import campaign_list_visible
from core.actors import Actor
from delivery.models import Execution, ReportCounter, WebhookEndpoint

CHART_DAYS = 7  # the chart's sends over the last 7 days, today included
FAILURE_RATE_HOURS = 24
LIST_LIMIT = 8  # rows per list: a dashboard points to the full lists, it is not one


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """How many campaigns the person may see are live, scheduled, waiting for approval."""

    live: int
    scheduled: int
    in_review: int


@dataclass(frozen=True, slots=True)
class DaySends:
    """Messages sent and failed on one day (in the active time zone)."""

    day: date
    sent: int
    failed: int


@dataclass(frozen=True, slots=True)
class Sends:
    """Today's numbers, the last 24 hours' failure rate, and the chart's days."""

    today: DaySends
    sent_24h: int
    failed_24h: int
    days: list[DaySends]

    @property
    def failure_rate(self) -> float | None:
        """Failed among messages that reached an outcome in the last 24 hours; None if none."""
        total = self.sent_24h + self.failed_24h
        return self.failed_24h / total if total else None


def campaign_counts(*, actor: Actor) -> CampaignCounts:
    counts = campaign_list_visible(actor=actor).aggregate(
        live=Count("pk", filter=Q(status=Status.LIVE)),
        scheduled=Count("pk", filter=Q(status=Status.SCHEDULED)),
        in_review=Count("pk", filter=Q(status=Status.IN_REVIEW)),
    )
    return CampaignCounts(**counts)


def campaign_list_running(*, actor: Actor, limit: int = LIST_LIMIT) -> list[Campaign]:
    """Live campaigns, then scheduled ones (soonest start first)."""
    return list(
        campaign_list_visible(actor=actor)
        .filter(status__in=[Status.LIVE, Status.SCHEDULED])
        .order_by("status", "start_at", "name")[:limit]  # "live" sorts before "scheduled"
    )


def campaign_list_waiting_for_approval(*, actor: Actor, limit: int = LIST_LIMIT) -> list[Campaign]:
    """Campaigns in review, the longest waiting first."""
    return list(
        campaign_list_visible(actor=actor)
        .filter(status=Status.IN_REVIEW)
        .select_related("last_edited_by")
        .order_by("updated_at")[:limit]
    )


def execution_list_recent(*, actor: Actor, limit: int = LIST_LIMIT) -> list[Execution]:
    visible = campaign_list_visible(actor=actor)
    return list(
        Execution.objects.filter(campaign__in=visible.values("pk"))
        .select_related("campaign")
        .order_by("-created_at")[:limit]
    )


def webhook_endpoint_list_disabled(*, limit: int = LIST_LIMIT) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(enabled=False).order_by("-disabled_at")[:limit])


def sends_read(*, actor: Actor, now: datetime | None = None) -> Sends:
    """Sent and failed messages by day over ``CHART_DAYS`` days, and over the last 24 hours.

    Days are those of the active time zone; the rollups count by UTC hour, so a day
    holds the hours that start in it.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - timedelta(days=CHART_DAYS - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    last_24h = now - timedelta(hours=FAILURE_RATE_HOURS)
    rows = (
        ReportCounter.objects.filter(
            campaign__in=campaign_list_visible(actor=actor).values("pk"),
            metric__in=["sent", "failed"],
            hour__gte=min(since, last_24h),
        )
        .values("hour", "metric")
        .annotate(total=Sum("count"))
        .order_by()
    )
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: {"sent": 0, "failed": 0})
    recent = {"sent": 0, "failed": 0}
    for row in rows:
        if row["hour"] >= since:
            by_day[timezone.localdate(row["hour"])][row["metric"]] += row["total"]
        # An hour counts when it ends inside the window (the hour 24 h ago is partly in it).
        if row["hour"] + timedelta(hours=1) > last_24h:
            recent[row["metric"]] += row["total"]
    days = [
        DaySends(day=day, sent=by_day[day]["sent"], failed=by_day[day]["failed"])
        for day in (first_day + timedelta(days=n) for n in range(CHART_DAYS))
    ]
    return Sends(today=days[-1], sent_24h=recent["sent"], failed_24h=recent["failed"], days=days)


def campaign_list_with_sends(*, actor: Actor) -> QuerySet[Campaign]:
    """Campaigns that sent something, with their ``sent`` total and ``last_sent_hour``,
    the most recent first (the reports index)."""
    sent = ReportCounter.objects.filter(campaign=OuterRef("pk"), metric="sent")
    by_campaign = sent.order_by().values("campaign")
    return (
        campaign_list_visible(actor=actor)
        .filter(live_version__isnull=False)
        .annotate(
            sent=Subquery(by_campaign.annotate(total=Sum("count")).values("total")),
            last_sent_hour=Subquery(by_campaign.annotate(last=Max("hour")).values("last")),
        )
        .filter(sent__gt=0)
        .order_by("-last_sent_hour", "name")
    )
