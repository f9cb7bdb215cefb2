"""Report rollups: counts per campaign, version, locale, variant, hour and metric."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportCounter(models.Model):
    """How many times ``metric`` (with its ``key``: a reason, a link) happened in one hour.

    Incremented in the transaction that records what it counts (delivery.reports),
    so the rows equal counts taken from messages and events, and they stay when
    those are purged. A report sums these rows, never message rows.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="report_counters",
    )
    version = models.ForeignKey(
        "campaigns.CampaignVersion",
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="report_counters",
    )
    locale = models.CharField(_("locale"), max_length=20, blank=True)
    variant = models.CharField(_("variant"), max_length=64, blank=True)
    hour = models.DateTimeField(_("hour"))
    metric = models.CharField(_("metric"), max_length=32)
    key = models.CharField(_("key"), max_length=255, blank=True)
    count = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("report counter")
        verbose_name_plural = _("report counters")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "hour", "version", "locale", "variant", "metric", "key"],
                name="report_counter_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.key} {self.hour:%Y-%m-%d %H}: {self.count}"
