"""A campaign's report page in the admin: numbers, charts, tables and CSV export.

Whoever may view the campaign may view its report (the campaign admin's
``get_object`` applies the access labels). The page reads the hourly rollups
(delivery.reports.selectors) three times: by locale (with the totals), by version,
by hour (the charts' series); never the message rows. Charts are drawn by Chart.js,
vendored under ``delivery/static/delivery/vendor/chartjs`` (no CDN); every chart has
a table with the same numbers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.admin.campaign import CampaignAdmin
from campaigns.models import Campaign
from delivery.reports.export import report_csv
from delivery.reports.metrics import Metrics
from delivery.reports.selectors import (
    GroupBy,
    ReportWindow,
    WindowName,
    campaign_report,
    report_series,
)

# Days a report range may name: Clarion keeps nothing older, and a far date would make
# a chart of hundreds of thousands of empty days (or overflow the next day's date).
REPORT_FIRST_DAY = date(2000, 1, 1)
REPORT_LAST_DAY = date(2999, 12, 31)


class ReportWindowForm(forms.Form):
    """The window switcher: live, all time, or a range of days (UTC, both included)."""

    window = forms.ChoiceField(
        label=gettext_lazy("Window"),
        choices=[
            (WindowName.LIVE, gettext_lazy("Live (last 24 hours)")),
            (WindowName.ALL, gettext_lazy("All time")),
            (WindowName.RANGE, gettext_lazy("Days")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not REPORT_FIRST_DAY <= day <= REPORT_LAST_DAY:
                self.add_error(
                    name,
                    _("Choose a day between %(first)s and %(last)s.")
                    % {"first": REPORT_FIRST_DAY.isoformat(), "last": REPORT_LAST_DAY.isoformat()},
                )
        if start and end and end < start:
            self.add_error("end", _("The last day comes before the first."))
        return data

    def report_window(self) -> ReportWindow:
        """The chosen window (all time when the form is not valid)."""
        if not self.is_valid():
            return ReportWindow.all()
        data = self.cleaned_data
        name = data.get("window") or WindowName.ALL
        if name == WindowName.LIVE:
            return ReportWindow.live()
        if name == WindowName.RANGE and (data.get("start") or data.get("end")):
            start, end = data.get("start"), data.get("end")
            return ReportWindow.range(
                start=datetime.combine(start, time(), tzinfo=UTC) if start else None,
                end=datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC) if end else None,
            )
        return ReportWindow.all()


def _funnel(totals: Metrics) -> list[dict[str, Any]]:
    steps = [
        (_("Targeted"), totals.targeted),
        (_("Sent"), totals.sent),
        (_("Delivered"), totals.delivered),
        (_("Opened (unique)"), totals.opens_unique),
        (_("Clicked (unique)"), totals.clickers),
    ]
    if not totals.delivered_base:  # the channel reports no deliveries: leave the step out
        steps.pop(2)
    first = steps[0][1] or 0
    return [
        {"label": label, "count": count, "share": round(100 * count / first, 1) if first else None}
        for label, count in steps
    ]


def _reasons(totals: Metrics) -> list[dict[str, Any]]:
    rows = [
        {"kind": _("Failed"), "reason": reason, "count": count}
        for reason, count in totals.failed.items()
    ]
    rows += [
        {"kind": _("Excluded"), "reason": reason, "count": count}
        for reason, count in totals.excluded.items()
    ]
    rows += [
        {"kind": _("Bounced"), "reason": kind, "count": count}
        for kind, count in ((_("hard"), totals.bounced_hard), (_("soft"), totals.bounced_soft))
        if count
    ]
    return rows


def _chart_data(series: list[Any], funnel: list[dict[str, Any]], totals: Metrics) -> dict[str, Any]:
    daily = len(series) > 1 and series[1].start - series[0].start >= timedelta(days=1)
    return {
        # The buckets' UTC days and hours, written the active language's way (2026年11月29日).
        "labels": [
            date_format(p.start, "SHORT_DATE_FORMAT")
            if daily
            else f"{date_format(p.start, 'MONTH_DAY_FORMAT')} {p.start:%H}:00"
            for p in series
        ],
        "series": [
            {"label": str(label), "data": [getattr(p.metrics, name) for p in series]}
            for name, label in (
                ("sent", _("Sent")),
                ("delivered", _("Delivered")),
                ("failed_total", _("Failed")),
                ("opens_unique", _("Opened (unique)")),
                ("clickers", _("Clicked (unique)")),
            )
        ],
        "funnel": {
            "labels": [str(s["label"]) for s in funnel],
            "data": [s["count"] for s in funnel],
        },
        "reasons": {
            "labels": [
                _("%(kind)s: %(reason)s") % {"kind": r["kind"], "reason": r["reason"]}
                for r in _reasons(totals)
            ],
            "data": [r["count"] for r in _reasons(totals)],
        },
        "links": {
            "labels": [f"#{link.link}" for link in totals.links.values()],
            "data": [link.unique for link in totals.links.values()],
        },
    }


def _filename(campaign: Campaign, window: ReportWindow) -> str:
    return f"report-{campaign.pk}-{window.slug()}.csv"


def report_view(admin: CampaignAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    campaign = admin.get_object(request, object_id)  # access labels apply: else None
    if campaign is None or not admin.has_view_or_change_permission(request, campaign):
        raise Http404(_("No such campaign."))
    form = ReportWindowForm(request.GET or {"window": WindowName.ALL})
    window = form.report_window()
    by_locale = campaign_report(campaign=campaign, window=window, group_by=GroupBy.LOCALE)
    by_version = campaign_report(
        campaign=campaign, window=window, group_by=GroupBy.VERSION, link_targets=False
    )
    by_hour = campaign_report(
        campaign=campaign, window=window, group_by=GroupBy.HOUR, link_targets=False
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            report_csv([by_locale, by_version, by_hour]), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{_filename(campaign, window)}"'
        return response
    totals = by_locale.totals
    series = report_series(by_hour)
    funnel = _funnel(totals)
    query = request.GET.copy()
    query["format"] = "csv"
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.model._meta,
        "title": _("Report: %s") % campaign.name,
        "original": campaign,
        "campaign": campaign,
        "form": form,
        "window": window,
        "totals": totals,
        "funnel": funnel,
        "reasons": _reasons(totals),
        "series": series,
        "locales": by_locale.groups,
        "versions": by_version.groups,
        "chart_data": _chart_data(series, funnel, totals),
        "csv_url": f"?{query.urlencode()}",
        "generated_at": by_locale.generated_at,
        "change_url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    }
    return TemplateResponse(request, "admin/delivery/campaign/report.html", context)


def report_link(campaign: Campaign) -> str:
    url = reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    return format_html('<a href="{}">{}</a>', url, _("Report"))
