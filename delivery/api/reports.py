"""``GET /api/v1/campaigns/{id}/report``: a campaign's counts, live or over any hours.

Read from the hourly rollups (delivery.reports.selectors), so the answer costs the
same for ten messages or ten million. Whoever may read the campaign may read its
report: the ``campaigns:read`` scope (or the ``view_campaign`` permission) and every
access label of the campaign, else 404 as for the campaign itself.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.selectors import campaign_list_visible
from core.api.lookups import uuid_or_404
from core.api.pagination import QuerySerializer
from core.api.permissions import Access, request_actor
from core.api.schema import problems
from core.errors import FieldError, invalid_input
from core.scopes import CAMPAIGNS_READ
from delivery.api.serializers import AwareDateTimeField
from delivery.reports.selectors import (
    GroupBy,
    Report,
    ReportWindow,
    WindowName,
    campaign_report,
)

READ_REPORTS = Access(CAMPAIGNS_READ, "campaigns.view_campaign")


class ReportQuerySerializer(QuerySerializer):
    window = serializers.ChoiceField(
        choices=[WindowName.LIVE, WindowName.ALL],
        required=False,
        help_text=gettext_lazy(
            "live: the hours that overlap the last 24 hours; all (the default): every "
            "hour, or the hours between from and to. live cannot have from or to."
        ),
    )
    groupBy = serializers.ChoiceField(
        choices=list(GroupBy.CHOICES),
        required=False,
        help_text=gettext_lazy("Also give the counts per locale, version, variant or hour."),
    )

    class Meta:
        ref_name = "CampaignReportQuery"

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()
        # "from" is a Python keyword: declared here rather than as an attribute.
        fields["from"] = AwareDateTimeField(
            required=False,
            help_text=gettext_lazy(
                "Start (ISO 8601), rounded down to its hour; the report counts whole hours."
            ),
        )
        fields["to"] = AwareDateTimeField(
            required=False,
            help_text=gettext_lazy("End (ISO 8601), excluded, rounded up to its hour."),
        )
        return fields


class _CountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class _ByReasonSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    byReason = _CountSerializer(many=True)


class _BouncedSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    hard = serializers.IntegerField()
    soft = serializers.IntegerField()


class _OpensSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=gettext_lazy("Opens by people, repeats included."))
    unique = serializers.IntegerField(help_text=gettext_lazy("Messages opened by a person."))
    machine = serializers.IntegerField(
        help_text=gettext_lazy("Opens that look machine-made (privacy proxies), reported apart.")
    )
    machineUnique = serializers.IntegerField()
    estimated = serializers.IntegerField(
        help_text=gettext_lazy(
            "Unique opens adjusted for privacy proxies: see docs/reports.md, “Opens”."
        )
    )


class _LinkSerializer(serializers.Serializer):
    link = serializers.IntegerField(help_text=gettext_lazy("The link's 1-based index."))
    url = serializers.CharField(
        help_text=gettext_lazy("Its target as lately clicked; empty when not known.")
    )
    total = serializers.IntegerField()
    unique = serializers.IntegerField()
    machine = serializers.IntegerField()
    machineUnique = serializers.IntegerField()


class _ClicksSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=gettext_lazy("Clicks by people."))
    unique = serializers.IntegerField(
        help_text=gettext_lazy("Messages with at least one click by a person.")
    )
    machine = serializers.IntegerField(
        help_text=gettext_lazy("Clicks that look machine-made (link scanners), reported apart.")
    )
    byLink = _LinkSerializer(many=True)


class _RatesSerializer(serializers.Serializer):
    base = serializers.ChoiceField(
        choices=["delivered", "sent"],
        help_text=gettext_lazy(
            "What the click-through rate divides by: delivered when the channel reports "
            "deliveries in this window, else sent."
        ),
    )
    clickThrough = serializers.FloatField(allow_null=True)
    clickToOpen = serializers.FloatField(allow_null=True)


class ReportMetricsSerializer(serializers.Serializer):
    targeted = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    bounced = _BouncedSerializer()
    failed = _ByReasonSerializer()
    excluded = _ByReasonSerializer()
    retried = serializers.IntegerField()
    rejected = serializers.IntegerField()
    complained = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    resubscribed = serializers.IntegerField()
    opens = _OpensSerializer()
    clicks = _ClicksSerializer()
    rates = _RatesSerializer()

    class Meta:
        ref_name = "CampaignReportMetrics"


class _WindowSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=[WindowName.LIVE, WindowName.ALL, WindowName.RANGE])
    # Whole hours in UTC; null is open.
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)


class _GroupSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=gettext_lazy(
            "The locale (empty: before a locale was chosen), the version number, the "
            "variant, or the hour's start in ISO 8601."
        )
    )
    metrics = ReportMetricsSerializer()


class CampaignReportSerializer(serializers.Serializer):
    campaignId = serializers.UUIDField()
    window = _WindowSerializer()
    groupBy = serializers.ChoiceField(choices=list(GroupBy.CHOICES), allow_null=True)
    generatedAt = serializers.DateTimeField()
    totals = ReportMetricsSerializer()
    groups = _GroupSerializer(many=True)

    class Meta:
        ref_name = "CampaignReport"


def report_data(report: Report) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value is not None else None

    return {
        "campaignId": str(report.campaign.pk),
        "window": {
            "name": report.window.name,
            "start": when(report.window.start),
            "end": when(report.window.end),
        },
        "groupBy": report.group_by,
        "generatedAt": when(report.generated_at),
        "totals": report.totals.as_data(),
        "groups": [{"key": g.key, "metrics": g.metrics.as_data()} for g in report.groups],
    }


def report_window(query: dict[str, Any]) -> ReportWindow:
    """The window the query names; a range that is empty or combined with ``live`` is a 422."""
    start, end = query.get("from"), query.get("to")
    if start is None and end is None:
        return ReportWindow.live() if query.get("window") == WindowName.LIVE else ReportWindow.all()
    if query.get("window") == WindowName.LIVE:
        raise invalid_input(
            [FieldError("/query/window", _("Give either window=live or from and to."))]
        )
    window = ReportWindow.range(start=start, end=end)
    if window.start is not None and window.end is not None and window.start >= window.end:
        raise invalid_input([FieldError("/query/to", _("The end must come after the start."))])
    return window


class CampaignReportApi(APIView):
    """A campaign's report: totals, and groups when ``groupBy`` is given."""

    access = {"GET": READ_REPORTS}

    @extend_schema(
        operation_id="campaigns_report_retrieve",
        summary="A campaign's report: sends, deliveries, failures, opens, clicks",
        parameters=[
            OpenApiParameter(
                "campaign_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The campaign's id.",
            ),
            ReportQuerySerializer,
        ],
        responses={
            200: CampaignReportSerializer,
            **problems(
                400,
                404,
                422,
                descriptions={
                    422: gettext_lazy(
                        "from is not before to, or a range is combined with window=live."
                    )
                },
            ),
        },
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        """Counts from the hourly rollups; see docs/reports.md for each metric."""
        not_found = _("No campaign has the id “%s”.") % campaign_id
        pk = uuid_or_404(campaign_id, not_found=not_found)
        campaign = campaign_list_visible(actor=request_actor(request)).filter(pk=pk).first()
        if campaign is None:
            raise exceptions.NotFound(not_found)
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        report = campaign_report(
            campaign=campaign, window=report_window(values), group_by=values.get("groupBy")
        )
        return Response(report_data(report))
